/**
 * A textarea turns every CRLF into LF (its value is normalised by the browser), so the file
 * editor remembers a file's line ending when it opens it and puts it back on save: a
 * Windows-style file stays CRLF. A file with mostly CRLF counts as CRLF (its few bare LFs
 * become CRLF on save; a textarea cannot keep a mix anyway).
 */
export type LineEnding = "lf" | "crlf";

export function lineEndingOf(text: string): LineEnding {
  const crlf = text.match(/\r\n/g)?.length ?? 0;
  const lf = (text.match(/\n/g)?.length ?? 0) - crlf;
  return crlf > 0 && crlf >= lf ? "crlf" : "lf";
}

/** The text as the editor shows it: LF only. */
export function toEditor(text: string): string {
  return text.replace(/\r\n/g, "\n");
}

/** The editor's text (LF, or what a browser gives) with the file's own line ending. */
export function fromEditor(text: string, eol: LineEnding): string {
  const lf = text.replace(/\r\n/g, "\n");
  return eol === "crlf" ? lf.replace(/\n/g, "\r\n") : lf;
}
