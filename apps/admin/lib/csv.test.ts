import { describe, expect, it } from "vitest";
import { csvCell, csvRow } from "./csv";

describe("csv", () => {
  it("leaves plain cells alone and quotes cells with commas, quotes or line breaks (quotes doubled)", () => {
    expect(csvCell("app.install")).toBe("app.install");
    expect(csvCell("")).toBe("");
    expect(csvCell(null)).toBe("");
    expect(csvCell(42)).toBe("42");
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("line 1\nline 2")).toBe('"line 1\nline 2"');
    expect(csvCell("cr\rhere")).toBe('"cr\rhere"');
  });

  it("prefixes cells that a spreadsheet would run as a formula with an apostrophe", () => {
    expect(csvCell("=1+1")).toBe("'=1+1");
    expect(csvCell("+cmd")).toBe("'+cmd");
    expect(csvCell("-2+3")).toBe("'-2+3");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\t=1")).toBe("'\t=1");
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    // only the first character counts
    expect(csvCell("a=b")).toBe("a=b");
    expect(csvCell("2001:db8::1")).toBe("2001:db8::1");
  });

  it("rows end with CRLF", () => {
    expect(csvRow(["a", "b,c", "=x"])).toBe('a,"b,c",\'=x\r\n');
  });
});
