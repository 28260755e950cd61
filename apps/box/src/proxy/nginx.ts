import path from "node:path";
import { rootHelper, run as runCommand, type RunResult as CommandResult } from "../shell";
import { SUDO_HELPER_DIR } from "../paths";

/**
 * Adapter for the one side effect the proxy service needs from nginx: check the whole
 * configuration and, only if it passes, reload. No product logic here.
 */
export interface NginxAdapter {
  /** Resolves when the check passed and nginx reloaded; otherwise rejects with NginxError. */
  checkAndReload(): Promise<void>;
}

export class NginxError extends Error {
  /** "check": the configuration was rejected (nothing reloaded); "reload": the check passed but the reload failed. */
  readonly stage: "check" | "reload";
  /** What nginx (or sudo) printed. */
  readonly output: string;
  constructor(stage: "check" | "reload", output: string) {
    super(output || `nginx ${stage} failed`);
    this.name = "NginxError";
    this.stage = stage;
    this.output = output;
  }
}

export const RELOAD_HELPER = `${SUDO_HELPER_DIR}/reload-nginx.sh`;

interface RunResult {
  code: number;
  output: string;
}

function resultOf(r: CommandResult): RunResult {
  const output = `${r.stderr}${r.stdout}`.trim();
  return { code: r.code, output: output || (r.code === 0 ? "" : (r.error?.message ?? (r.timedOut ? "timed out" : `exit code ${r.code}`))) };
}

async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return resultOf(await runCommand(cmd, args, { timeoutMs }));
}

/**
 * Production: the root helper `setup/sudo/reload-nginx.sh` (whitelisted in
 * /etc/sudoers.d/hearth) runs `nginx -t`, then reloads. It exits 1 with nginx's message
 * when the check fails; any other failure (sudo refused, reload failed) is reported as a
 * reload failure.
 */
export class SudoNginx implements NginxAdapter {
  constructor(
    private readonly helper: string = RELOAD_HELPER,
    private readonly sudo: string = "sudo",
  ) {}

  async checkAndReload(): Promise<void> {
    const r = resultOf(await rootHelper(path.basename(this.helper), [], undefined, { helperDir: path.dirname(this.helper), sudo: this.sudo }));
    if (r.code === 0) return;
    throw new NginxError(r.code === 1 ? "check" : "reload", r.output);
  }
}

/**
 * An nginx we started ourselves (tests, development): `nginx -p <prefix> -c <conf> -t`,
 * then `-s reload`. Counts reloads so tests can prove an unchanged set reloads nothing.
 */
export class LocalNginx implements NginxAdapter {
  reloads = 0;
  checks = 0;

  constructor(
    private readonly prefix: string,
    private readonly confPath: string,
    private readonly binary: string = "nginx",
  ) {}

  private args(...extra: string[]): string[] {
    return ["-p", this.prefix, "-c", this.confPath, ...extra];
  }

  async checkAndReload(): Promise<void> {
    this.checks++;
    const t = await run(this.binary, this.args("-t"));
    if (t.code !== 0) throw new NginxError("check", t.output);
    const r = await run(this.binary, this.args("-s", "reload"));
    if (r.code !== 0) throw new NginxError("reload", r.output);
    this.reloads++;
  }
}
