import type { ReactNode } from "react";

/**
 * A small, safe Markdown subset for manifests' post-install messages and descriptions:
 * paragraphs, `- ` lists, **bold**, *italic*, `code` and [links](https://…). It builds React
 * elements (React escapes all text); no HTML from the input is ever rendered, and only
 * http(s) links become anchors.
 */
function inline(text: string, key: string): ReactNode[] {
  const out: ReactNode[] = [];
  const re = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*]+\*)|(\[[^\]]+\]\([^)\s]+\))/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let i = 0;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const tok = m[0];
    const k = `${key}-${i++}`;
    if (m[1]) out.push(<code key={k}>{tok.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={k}>{tok.slice(2, -2)}</strong>);
    else if (m[3]) out.push(<em key={k}>{tok.slice(1, -1)}</em>);
    else {
      const lm = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(tok)!;
      const href = lm[2]!;
      out.push(
        /^https?:\/\//i.test(href) ? (
          <a key={k} href={href} target="_blank" rel="noopener noreferrer">
            {lm[1]}
          </a>
        ) : (
          lm[1]
        ),
      );
    }
    last = m.index + tok.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ text, className }: { text: string; className?: string }) {
  const blocks = text.replace(/\r\n/g, "\n").split(/\n{2,}/);
  return (
    <div className={className ? `markdown ${className}` : "markdown"}>
      {blocks.map((b, bi) => {
        const lines = b.split("\n").filter((l) => l.trim() !== "");
        if (lines.length === 0) return null;
        if (lines.every((l) => /^\s*[-*] /.test(l))) {
          return (
            <ul key={bi}>
              {lines.map((l, li) => (
                <li key={li}>{inline(l.replace(/^\s*[-*] /, ""), `${bi}-${li}`)}</li>
              ))}
            </ul>
          );
        }
        const h = /^(#{1,3}) (.*)$/.exec(lines[0]!);
        if (h && lines.length === 1)
          return (
            <p key={bi} className="md-heading">
              {inline(h[2]!, `${bi}`)}
            </p>
          );
        return <p key={bi}>{lines.flatMap((l, li) => (li === 0 ? inline(l, `${bi}-${li}`) : [<br key={`br${li}`} />, ...inline(l, `${bi}-${li}`)]))}</p>;
      })}
    </div>
  );
}
