import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** setup/images/mirror.sh: which Debian mirror the base image is built from. */
const MIRROR_SH = path.join(import.meta.dirname, "mirror.sh");
const root = mkdtempSync(path.join(os.tmpdir(), "hearth-mirror-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function mirrors(files: Record<string, string>, suite = "bookworm"): { ok: boolean; out: string } {
  const dir = path.join(root, String(n++));
  mkdirSync(path.join(dir, "sources.list.d"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  try {
    const out = execFileSync("bash", ["-c", `. "${MIRROR_SH}" && hearth_apt_mirrors`], {
      env: { ...process.env, HEARTH_APT_DIR: dir, SUITE: suite },
      encoding: "utf8",
    });
    return { ok: true, out: out.trim() };
  } catch {
    return { ok: false, out: "" };
  }
}

describe("hearth_apt_mirrors", () => {
  it("reads deb822 .sources files (Debian 12's default)", () => {
    const r = mirrors({
      "sources.list.d/debian.sources": [
        "Types: deb",
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z",
        "URIs: http://deb.debian.org/debian",
        "Suites: bookworm bookworm-updates",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb",
        "URIs: http://deb.debian.org/debian-security/",
        "Suites: bookworm-security",
        "Components: main",
        "",
      ].join("\n"),
    });
    expect(r).toEqual({ ok: true, out: "http://deb.debian.org/debian http://deb.debian.org/debian-security" });
  });

  it("reads one-line sources.list with options, skipping deb-src and comments", () => {
    const r = mirrors({
      "sources.list": [
        "# deb http://commented.example/debian bookworm main",
        "deb-src http://src.example/debian bookworm main",
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example.org/debian/ bookworm main contrib",
        "deb http://security.example.org/debian-security bookworm-security main",
      ].join("\n"),
    });
    expect(r).toEqual({ ok: true, out: "http://mirror.example.org/debian http://security.example.org/debian-security" });
  });

  it("skips disabled deb822 stanzas and other suites; security may be missing", () => {
    const r = mirrors({
      "sources.list.d/a.sources": "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\nTypes: deb\nURIs: http://old.example/debian\nSuites: bullseye\n",
      "sources.list.d/b.list": "deb http://on.example/debian bookworm main\n",
      "sources.list.d/c.list.disabled": "deb http://ignored.example/debian bookworm main\n",
    });
    expect(r).toEqual({ ok: true, out: "http://on.example/debian" });
  });

  it("fails when no source serves the suite", () => {
    expect(mirrors({ "sources.list": "deb http://x.example/debian bullseye main\n" }).ok).toBe(false);
    expect(mirrors({}).ok).toBe(false);
  });

  it("follows the suite asked for", () => {
    const r = mirrors({ "sources.list": "deb http://a.example/debian bookworm main\ndeb http://b.example/debian trixie main\n" }, "trixie");
    expect(r.out).toBe("http://b.example/debian");
  });
});
