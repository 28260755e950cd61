import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * Secrets at rest (registry passwords, addon credentials): AES-256-GCM with the 32-byte key
 * from HEARTH_SECRET_KEY (base64, made by setup/install.sh, kept in /etc/hearth/hearth.env).
 * Sealed form: "v1:<iv b64>:<tag b64>:<ciphertext b64>". A wrong key or a changed byte
 * fails to open (GCM authenticates), never returns garbage.
 */
export function parseSecretKey(b64: string): Buffer {
  const key = Buffer.from(b64, "base64");
  if (key.length !== 32) throw new Error("HEARTH_SECRET_KEY must be 32 bytes, base64-encoded");
  return key;
}

export function sealSecret(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
  return `v1:${iv.toString("base64")}:${c.getAuthTag().toString("base64")}:${body.toString("base64")}`;
}

export function openSecret(key: Buffer, sealed: string): string {
  const [v, iv, tag, body] = sealed.split(":");
  if (v !== "v1" || !iv || !tag || body === undefined) throw new Error("not a sealed secret");
  const d = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  d.setAuthTag(Buffer.from(tag, "base64"));
  return Buffer.concat([d.update(Buffer.from(body, "base64")), d.final()]).toString("utf8");
}
