import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dataPaths, DEFAULT_DATA_DIR, SUDO_HELPER_DIR, SYSTEM_PATHS } from "./paths";

const REPO = path.resolve(import.meta.dirname, "../../..");

/** The path variables setup/lib/common.sh defines, expanded as bash would (defaults, $VAR). */
function installerPaths(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path.join(REPO, "setup/lib/common.sh"), "utf8").split("\n")) {
    const m = /^(HEARTH_[A-Z_]+)="(.*)"$/.exec(line);
    if (!m) continue;
    const value = m[2]!.replace(/^\$\{\w+:-(.*)\}$/, "$1").replace(/\$\{?(\w+)\}?/g, (_, v: string) => vars[v] ?? `<${v}?>`);
    vars[m[1]!] = value;
  }
  return vars;
}

describe("paths.ts", () => {
  it("names the same system paths as the installer (setup/lib/common.sh)", () => {
    const sh = installerPaths();
    expect({
      runtime: SYSTEM_PATHS.runtime.path,
      app: SYSTEM_PATHS.app.path,
      state: SYSTEM_PATHS.state.path,
      data: SYSTEM_PATHS.data.path,
      public: SYSTEM_PATHS.public.path,
      logs: SYSTEM_PATHS.logs.path,
      run: SYSTEM_PATHS.run.path,
      supervise: SYSTEM_PATHS.supervise.path,
      adminEnvFile: SYSTEM_PATHS.adminEnvFile.path,
      nginxVhosts: SYSTEM_PATHS.nginxVhosts.path,
      etc: SYSTEM_PATHS.etc.path,
      envFile: SYSTEM_PATHS.envFile.path,
      dashboardTls: SYSTEM_PATHS.dashboardTls.path,
    }).toEqual({
      runtime: sh.HEARTH_RUNTIME,
      app: sh.HEARTH_APP_DIR,
      state: sh.HEARTH_STATE_DIR,
      data: sh.HEARTH_DATA_DIR,
      public: sh.HEARTH_PUBLIC_DIR,
      logs: sh.HEARTH_LOG_DIR,
      run: sh.HEARTH_RUN_DIR,
      supervise: sh.HEARTH_SUPERVISE_DIR,
      adminEnvFile: sh.HEARTH_ADMIN_ENV_FILE,
      nginxVhosts: sh.HEARTH_NGINX_ROOT_DIR,
      etc: sh.HEARTH_ETC_DIR,
      envFile: sh.HEARTH_ENV_FILE,
      dashboardTls: sh.HEARTH_TLS_DIR,
    });
    expect(DEFAULT_DATA_DIR).toBe(sh.HEARTH_DATA_DIR);
  });

  it("puts the root helpers where the installer's sudoers whitelist points, and each one exists in setup/sudo", () => {
    const install = readFileSync(path.join(REPO, "setup/install.sh"), "utf8");
    expect(install).toContain(`sudo -n ${SUDO_HELPER_DIR}/<name>.sh`);
    expect(SUDO_HELPER_DIR).toBe(`${installerPaths().HEARTH_APP_DIR}/setup/sudo`);
    expect(readdirSync(path.join(REPO, "setup/sudo")).filter((f) => f.endsWith(".sh")).length).toBeGreaterThan(0);
  });

  it("marks only root-owned system paths as root's, and box's data as hearth's", () => {
    for (const [name, p] of Object.entries(SYSTEM_PATHS)) {
      expect(path.isAbsolute(p.path), name).toBe(true);
      expect(["root", "hearth", "hearth-admin"], name).toContain(p.owner);
    }
    expect(SYSTEM_PATHS.sudoHelpers.owner).toBe("root");
    expect(SYSTEM_PATHS.sudoers.owner).toBe("root");
    expect(SYSTEM_PATHS.app.owner).toBe("root");
    expect(SYSTEM_PATHS.data.owner).toBe("hearth");
  });

  it("keeps every data path inside the data folder", () => {
    const d = dataPaths("/srv/h");
    const all = [d.taskLogs, d.nginx, d.public, d.fallbackCerts, d.certStore, d.services, d.mail, d.appBackups("0f3c9a52-1b2d-4e5f-8a9b-0c1d2e3f4a5b")];
    for (const p of all) expect(p.startsWith("/srv/h/"), p).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    expect(d.taskLogs).toBe("/srv/h/logs/tasks");
    expect(d.appBackups("x")).toBe("/srv/h/backups/apps/x");
  });
});
