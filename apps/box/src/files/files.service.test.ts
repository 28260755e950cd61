import { describe, expect, it } from "vitest";
import { helperError, isText } from "./files.service";
import { FILES_HELPER_SCRIPT } from "./helper-script";

describe("the file manager's pieces", () => {
  it("maps the helper's refusals to Hearth's errors with their reason", () => {
    const e = helperError("HEARTH-ERR outside_volume /app/data/x goes through a symbolic link to /etc/shadow, outside /app/data\n", 3);
    expect([e.code, e.status, e.details]).toEqual(["invalid", 400, { reason: "outside_volume" }]);
    expect(helperError("HEARTH-ERR exists /app/data/a already exists", 3).code).toBe("conflict");
    expect(helperError("HEARTH-ERR not_found /app/data/a does not exist", 3).code).toBe("not_found");
    expect(helperError("perl: panic", 255)).toMatchObject({ code: "external", message: "the file helper failed (exit 255)" });
  });

  it("tells text from binary", () => {
    expect(isText(Buffer.from("héllo ✓\n"))).toBe(true);
    expect(isText(Buffer.from([0x68, 0x00, 0x69]))).toBe(false);
    expect(isText(Buffer.from([0xff, 0xfe, 0x41]))).toBe(false);
  });

  it("chroots before it touches a path, and never runs a shell", () => {
    const chroot = FILES_HELPER_SCRIPT.indexOf('chroot("/data")');
    expect(chroot).toBeGreaterThan(0);
    expect(FILES_HELPER_SCRIPT.indexOf("my $op = shift @ARGV")).toBeGreaterThan(chroot);
    expect(FILES_HELPER_SCRIPT).not.toMatch(/\bsystem\s*\(|\bexec\s*\(|`|qx|open\s*\(\s*my\s+\$\w+\s*,\s*["']\|/);
  });
});
