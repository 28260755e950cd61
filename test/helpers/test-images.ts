import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HearthManifestInput } from "@hearth/contracts";

/**
 * Tiny local images for app tests, made without any registry: Debian's static busybox in a
 * rootfs tarball, `docker import`ed with a CMD that serves /www over HTTP on port 8080
 * (`/health` answers 200), printing a line at start and one per request (httpd -v) to stderr. The "slow" variant waits `slowSeconds` before serving, which
 * gives kill -9 tests a window inside the health wait.
 */
export const TEST_HTTPD_IMAGE = "hearth-test/httpd:2";
export const TEST_HTTPD_SLOW_IMAGE = "hearth-test/httpd-slow:2";
const BUSYBOX = "/bin/busybox";

function imageExists(ref: string): boolean {
  try {
    execFileSync("docker", ["image", "inspect", ref], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function ensureBusyboxInstalled(): void {
  if (existsSync(BUSYBOX)) {
    const out = execFileSync("file", ["-L", BUSYBOX], { encoding: "utf8" }).toString();
    if (/statically linked|static-pie/.test(out)) return;
  }
  execFileSync("apt-get", ["install", "-y", "busybox-static"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function importImage(ref: string, cmd: string[]): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-rootfs-"));
  try {
    const root = path.join(dir, "root");
    for (const d of ["bin", "www", "app/data", "run", "tmp", "etc"]) mkdirSync(path.join(root, d), { recursive: true });
    copyFileSync(BUSYBOX, path.join(root, "bin/busybox"));
    chmodSync(path.join(root, "bin/busybox"), 0o755);
    symlinkSync("busybox", path.join(root, "bin/sh"));
    writeFileSync(path.join(root, "www/index.html"), "hello from hearth test app\n");
    writeFileSync(path.join(root, "www/health"), "ok\n");
    writeFileSync(path.join(root, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
    writeFileSync(path.join(root, "etc/group"), "root:x:0:\n");
    const tar = path.join(dir, "rootfs.tar");
    execFileSync("tar", ["-C", root, "-cf", tar, "."]);
    execFileSync("docker", ["import", "-c", `CMD ${JSON.stringify(cmd)}`, "-c", "EXPOSE 8080", tar, ref], { stdio: "ignore" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds the test images unless they are present. */
export function ensureTestImages(slowSeconds = 4): void {
  if (imageExists(TEST_HTTPD_IMAGE) && imageExists(TEST_HTTPD_SLOW_IMAGE)) return;
  ensureBusyboxInstalled();
  if (!imageExists(TEST_HTTPD_IMAGE)) importImage(TEST_HTTPD_IMAGE, ["/bin/busybox", "sh", "-c", "echo test app starting; exec /bin/busybox httpd -f -v -p 8080 -h /www"]);
  if (!imageExists(TEST_HTTPD_SLOW_IMAGE)) {
    importImage(TEST_HTTPD_SLOW_IMAGE, ["/bin/busybox", "sh", "-c", `echo test app starting slowly; sleep ${slowSeconds}; exec /bin/busybox httpd -f -v -p 8080 -h /www`]);
  }
}

/** TEST_HTTPD_IMAGE under a Hearth name (localhost/hearth/…), for catalog builds in tests: Hearth builds only FROM local Hearth images. */
export const TEST_HTTPD_HEARTH_IMAGE = "localhost/hearth/test-httpd:2";
export function ensureHearthTestImage(): void {
  ensureTestImages();
  if (!imageExists(TEST_HTTPD_HEARTH_IMAGE)) execFileSync("docker", ["tag", TEST_HTTPD_IMAGE, TEST_HTTPD_HEARTH_IMAGE], { stdio: "ignore" });
}

/**
 * A manifest of an app on the test httpd (TEST_HTTPD_IMAGE): version 1.0.0, HTTP on 8080,
 * health at /health, 64 MiB, localstorage. `id` and `title` name it; `over` changes the rest.
 */
export function testHttpdManifest(id: string, title: string, over: Partial<HearthManifestInput> = {}): HearthManifestInput {
  return {
    manifestVersion: 1,
    id,
    title,
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 64 * 1024 * 1024,
    addons: { localstorage: {} },
    ...over,
  };
}
