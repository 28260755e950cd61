import argon2 from "argon2";

/** argon2id everywhere. Unknown users are verified against a dummy hash so they cost the same. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 64 * 1024, timeCost: 3, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummy: Promise<string> | null = null;
/** A hash of a random password with the same parameters, made once per process. */
export function dummyHash(): Promise<string> {
  dummy ??= argon2.hash(`dummy-${Math.random()}-${Date.now()}`, OPTIONS);
  return dummy;
}

/** Verifies `password` against `hash`, or against the dummy hash when there is no user. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  try {
    const ok = await argon2.verify(hash ?? (await dummyHash()), password);
    return hash !== null && ok;
  } catch {
    return false;
  }
}
