/**
 * TXT record data as text: one or more quoted <character-string>s of at most 255 bytes.
 *
 * Zone-file presentation format (RFC 1035 §5.1, used by nsupdate, dig and the PowerDNS API)
 * escapes `"` and `\` with a backslash and any other byte as `\DDD` in decimal. Route 53
 * uses the same layout but its `\ddd` escapes are octal. A value longer than 255 bytes is
 * split into several strings, which resolvers join again; Hearth's value is the join.
 */
export type TxtEscape = "decimal" | "octal";

const MAX_STRING = 255;

function escapeByte(b: number, style: TxtEscape): string {
  if (b === 0x22 || b === 0x5c) return `\\${String.fromCharCode(b)}`;
  if (b >= 0x20 && b <= 0x7e) return String.fromCharCode(b);
  return style === "decimal" ? `\\${b.toString(10).padStart(3, "0")}` : `\\${b.toString(8).padStart(3, "0")}`;
}

/** `hello "world"` → `"hello \"world\""`, split into 255-byte strings. */
export function encodeTxt(value: string, style: TxtEscape = "decimal"): string {
  const bytes = Buffer.from(value, "utf8");
  const parts: string[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += MAX_STRING) {
    const chunk = bytes.subarray(i, i + MAX_STRING);
    parts.push(`"${Array.from(chunk, (b) => escapeByte(b, style)).join("")}"`);
    if (bytes.length === 0) break;
  }
  return parts.join(" ");
}

/**
 * The inverse: joins all character-strings of one TXT record. Unquoted words are accepted
 * too (some APIs return a legacy unquoted value); escapes apply in both.
 */
export function decodeTxt(rdata: string, style: TxtEscape = "decimal"): string {
  const s = rdata.trim();
  if (!s.startsWith('"')) return unescapeRun(s, style);
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    const quoted = s[i] === '"';
    if (quoted) i++;
    while (i < s.length) {
      const c = s[i]!;
      if (quoted ? c === '"' : /\s/.test(c)) {
        if (quoted) i++;
        break;
      }
      if (c === "\\" && i + 1 < s.length) {
        const digits = s.slice(i + 1, i + 4);
        if (/^\d{3}$/.test(digits)) {
          out.push(parseInt(digits, style === "decimal" ? 10 : 8) & 0xff);
          i += 4;
        } else {
          out.push(...Buffer.from(s[i + 1]!, "utf8"));
          i += 2;
        }
        continue;
      }
      out.push(...Buffer.from(c, "utf8"));
      i++;
    }
  }
  return Buffer.from(out).toString("utf8");
}

function unescapeRun(s: string, style: TxtEscape): string {
  if (!s.includes("\\")) return s;
  return decodeTxt(`"${s.replace(/"/g, '\\"')}"`, style);
}

/**
 * Quoting for APIs that take the text with quotes but do their own splitting and accept
 * UTF-8 as is (Cloudflare): only `"` and `\` are escaped.
 */
export function quoteTxtSimple(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
