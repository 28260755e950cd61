import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import addressparser from "nodemailer/lib/addressparser";
import { HearthError } from "@hearth/contracts";

/**
 * The relay's accounts: one per app with the sendmail addon. The username is the app id
 * (a UUID: the lookup is then a primary-key read of the app's AppAddon row, and no two apps
 * can ever share it), the password 24 random bytes (192 bits, base64url). The relay only
 * ever sees a scrypt hash of it: the plain password lives in the sealed AppAddon
 * credentials because it is injected into the container each time it is created.
 */
export interface MailAccount {
  username: string;
  /** `scrypt$<N>$<r>$<p>$<salt b64>$<hash b64>` */
  passwordHash: string;
  /** the one address this account may send as (envelope and From: header) */
  from: string;
}

/** What the relay asks for on every AUTH; null when there is no such account (or it was removed). */
export type MailAccountLookup = (username: string) => Promise<MailAccount | null>;

const USERNAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// N=2^15 costs ~30 ms and 32 MiB here: cheap enough per AUTH, costly for an offline guess
const SCRYPT = { N: 1 << 15, r: 8, p: 1, keylen: 32, maxmem: 64 * 1024 * 1024 };

export const isRelayUsername = (s: string): boolean => USERNAME.test(s);

export function usernameFor(appId: string): string {
  const u = appId.toLowerCase();
  if (!isRelayUsername(u)) throw new HearthError("invalid", `app id ${JSON.stringify(appId)} is not a UUID`);
  return u;
}

export const newRelayPassword = (): string => randomBytes(24).toString("base64url");

function scryptAsync(password: string, salt: Buffer, p: { N: number; r: number; p: number; keylen: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, p.keylen, { N: p.N, r: p.r, p: p.p, maxmem: SCRYPT.maxmem }, (e, key) => (e ? reject(e) : resolve(key))));
}

export async function hashRelayPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Constant-time check of `password` against a hashRelayPassword() hash; false for a malformed hash. */
export async function verifyRelayPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1 << 20 || r > 32 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, "base64");
  const expected = Buffer.from(parts[5]!, "base64");
  if (salt.length < 8 || expected.length < 16) return false;
  const got = await scryptAsync(password, salt, { N, r, p, keylen: expected.length });
  return timingSafeEqual(got, expected);
}

/**
 * `<subdomain>.app@<domain>` (the form; the ".app" keeps app senders apart from
 * people's mailboxes on the same domain); `app@<domain>` for an app on the bare domain.
 */
export function senderAddressFor(app: { subdomain: string; domain: string }): string {
  const domain = app.domain.trim().toLowerCase().replace(/\.$/, "");
  const sub = app.subdomain.trim().toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain)) {
    throw new HearthError("invalid", `${JSON.stringify(app.domain)} is not a domain name`);
  }
  if (sub && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(sub)) {
    throw new HearthError("invalid", `${JSON.stringify(app.subdomain)} is not a subdomain`);
  }
  return sub ? `${sub}.app@${domain}` : `app@${domain}`;
}

/** Addresses compare case-insensitively (our local parts are lowercase by construction). */
export const sameAddress = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * The header block of a message (everything before the first empty line), unfolded, as
 * [name lowercased, value] pairs in order.
 */
export function parseHeaders(head: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) {
      out[out.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const i = line.indexOf(":");
    if (i <= 0) continue;
    out.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return out;
}

/** Splits a raw message at the end of its header block. */
export function headerBlockOf(raw: Buffer): string {
  const s = raw.subarray(0, Math.min(raw.length, 256 * 1024)).toString("latin1");
  const m = /\r?\n\r?\n/.exec(s);
  return m ? s.slice(0, m.index) : s;
}

/**
 * Why the message's author headers are not `from` (or null when they are): exactly one From:
 * with exactly one mailbox, which is `from`; a Sender: (when present) must be `from` too.
 * Display names are free.
 */
export function authorProblem(raw: Buffer, from: string): string | null {
  const headers = parseHeaders(headerBlockOf(raw));
  const froms = headers.filter(([n]) => n === "from");
  if (froms.length !== 1) return froms.length ? "more than one From: header" : "no From: header";
  const mailboxes = addressparser(froms[0]![1], { flatten: true });
  if (mailboxes.length !== 1 || !mailboxes[0]!.address) return "From: must hold exactly one address";
  if (!sameAddress(mailboxes[0]!.address, from)) return `From: must be ${from}`;
  for (const [, value] of headers.filter(([n]) => n === "sender")) {
    const s = addressparser(value, { flatten: true });
    if (s.length !== 1 || !sameAddress(s[0]!.address ?? "", from)) return `Sender: must be ${from}`;
  }
  return null;
}
