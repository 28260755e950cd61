import { describe, expect, it } from "vitest";
import { filePath, dirPath, filePathProblem } from "./files";

describe("filePathProblem", () => {
  it.each([
    ["a/b.txt", null],
    ["ünïcode name.txt", null],
    ["a..b", null],
    ["...", null],
  ])("takes %j", (p, want) => {
    expect(filePathProblem(p)).toBe(want);
  });

  it.each([
    ["..", "outside_volume"],
    ["../x", "outside_volume"],
    ["a/../../x", "outside_volume"],
    ["a/..", "outside_volume"],
    ["/etc/shadow", "outside_volume"],
    ["//etc", "outside_volume"],
    ["a\u0000b", "bad_path"],
    ["a\nb", "bad_path"],
    ["..\\etc", "bad_path"],
    ["a//b", "bad_path"],
    ["./a", "bad_path"],
    ["a/", "bad_path"],
    ["", "bad_path"],
    ["x".repeat(256), "bad_path"],
  ])("refuses %j (%s)", (p, reason) => {
    expect(filePathProblem(p)?.reason).toBe(reason);
  });

  it("lets a folder be the root, a file never", () => {
    expect(dirPath.safeParse("").success).toBe(true);
    const r = filePath.safeParse("");
    expect(r.success).toBe(false);
    const bad = filePath.safeParse("../x");
    expect(bad.success ? null : (bad.error.issues[0] as { params?: { reason?: string } }).params?.reason).toBe("outside_volume");
  });
});
