import { createHash, randomInt, timingSafeEqual } from "node:crypto";

/**
 * The one-time setup code that guards first-run setup. setup/install.sh makes it (through
 * setup/setup-code.ts), keeps it in a root-only file and prints it; only its hash is in the
 * database (Setting `setup.code`), where admin checks it and deletes it when the owner is
 * created. 12 characters from a 31-letter alphabet without look-alikes (no 0/O, 1/I/L):
 * about 59 bits, shown as XXXX-XXXX-XXXX. Typing is forgiving: case, spaces and dashes are ignored.
 */
export const SETUP_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const GROUPS = 3;
const GROUP_LEN = 4;

export function newSetupCode(): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let s = "";
    for (let i = 0; i < GROUP_LEN; i++) s += SETUP_CODE_ALPHABET[randomInt(SETUP_CODE_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join("-");
}

/** The code as typed → its canonical form (12 letters, no dashes), or null when it cannot be one. */
export function normalizeSetupCode(typed: string): string | null {
  const s = typed.replace(/[\s-]/g, "").toUpperCase();
  if (s.length !== GROUPS * GROUP_LEN) return null;
  for (const ch of s) if (!SETUP_CODE_ALPHABET.includes(ch)) return null;
  return s;
}

/** The code in its shown form, XXXX-XXXX-XXXX; null when it cannot be one. */
export function formatSetupCode(typed: string): string | null {
  const n = normalizeSetupCode(typed);
  return n ? (n.match(new RegExp(`.{${GROUP_LEN}}`, "g")) ?? []).join("-") : null;
}

export function hashSetupCode(code: string): string {
  const n = normalizeSetupCode(code);
  if (!n) throw new Error("not a setup code");
  return createHash("sha256").update(`hearth-setup-code:${n}`, "utf8").digest("hex");
}

/** Constant-time check of a typed code against the stored hash. */
export function setupCodeMatches(typed: string, storedHash: string): boolean {
  const n = normalizeSetupCode(typed);
  // hash something either way, so a malformed code costs the same as a wrong one
  const h = Buffer.from(
    createHash("sha256")
      .update(`hearth-setup-code:${n ?? "-"}`, "utf8")
      .digest("hex"),
    "utf8",
  );
  const s = Buffer.from(storedHash, "utf8");
  return n !== null && h.length === s.length && timingSafeEqual(h, s);
}
