import { describe, expect, it } from "vitest";
import { fromEditor, lineEndingOf, toEditor } from "./line-endings";

describe("the file editor's line endings", () => {
  it("a CRLF file is saved with CRLF after an edit in a textarea (which gives LF)", () => {
    const file = "[section]\r\nkey=value\r\n";
    const eol = lineEndingOf(file);
    expect(eol).toBe("crlf");
    const edited = `${toEditor(file)}other=1\n`; // what a textarea's value holds after typing
    expect(fromEditor(edited, eol)).toBe("[section]\r\nkey=value\r\nother=1\r\n");
  });

  it("an LF file, a file without line breaks and a mostly-LF file stay LF", () => {
    expect(lineEndingOf("a\nb\n")).toBe("lf");
    expect(lineEndingOf("one line")).toBe("lf");
    expect(lineEndingOf("a\nb\nc\r\n")).toBe("lf");
    expect(fromEditor("a\nb\n", "lf")).toBe("a\nb\n");
    expect(fromEditor("a\r\nb", "lf")).toBe("a\nb");
  });
});
