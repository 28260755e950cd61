import { open } from "node:fs/promises";
import cron, { type ScheduledTask } from "node-cron";
import { getSetting, setSetting, type Db } from "@hearth/db";
import { HEARTH_RELEASE_KEY, hearthRelease, hearthReleaseState, MAX_RELEASE_BYTES, type HearthRelease, type HearthReleaseState } from "@hearth/contracts";

/**
 * Whether a newer Hearth is out: reads the configured release source (HEARTH_RELEASE_SOURCE,
 * an http(s) URL or an absolute file path holding `{version, notes?, url?}`) at start and
 * daily, and writes the Setting `hearth.release` (`{latest, checkedAt, error}`). A failed
 * read keeps the last release read and records the error. Nothing here installs anything.
 */
export const RELEASE_CHECK_CRON = "53 5 * * *";

type Log = { info(o: object, m?: string): void; warn(o: object, m?: string): void };

/** Reads at most MAX_RELEASE_BYTES of the body, counting bytes as they come; aborts past it. */
async function readCapped(res: Response, ctl: AbortController): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_RELEASE_BYTES) {
      await reader.cancel().catch(() => {});
      ctl.abort();
      throw new Error(`the release source is larger than ${MAX_RELEASE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export class ReleaseCheck {
  private task: ScheduledTask | null = null;

  constructor(private readonly d: { db: Db; source: string; log: Log; expression?: string; timeoutMs?: number }) {}

  async start(): Promise<void> {
    const expression = this.d.expression ?? RELEASE_CHECK_CRON;
    this.task = cron.schedule(expression, () => void this.run(), { name: "hearth-release-check", noOverlap: true });
    this.d.log.info({ cron: expression }, "check for a newer Hearth scheduled");
    await this.run();
  }

  /** Reads the source once and records the outcome (never throws). */
  async run(now = new Date()): Promise<HearthReleaseState> {
    const previous = hearthReleaseState.safeParse(await getSetting(this.d.db, HEARTH_RELEASE_KEY).catch(() => null));
    let state: HearthReleaseState;
    try {
      state = { latest: await this.read(), checkedAt: now.toISOString(), error: null };
    } catch (e) {
      const error = (e as Error).message.slice(0, 500);
      this.d.log.warn({ err: error }, "could not read the Hearth release source");
      state = { latest: previous.success ? previous.data.latest : null, checkedAt: now.toISOString(), error };
    }
    try {
      await setSetting(this.d.db, HEARTH_RELEASE_KEY, state);
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not store the Hearth release check");
    }
    return state;
  }

  private async read(): Promise<HearthRelease> {
    const src = this.d.source;
    let text: string;
    if (/^https?:\/\//i.test(src)) {
      // Redirects are refused ("manual" and a 3xx is an error): the configured URL is the source,
      // and a redirect could lead to another host.
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new Error("the release source did not answer in time")), this.d.timeoutMs ?? 15_000);
      try {
        const res = await fetch(src, { signal: ctl.signal, redirect: "manual" });
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => {});
          throw new Error(`the release source answered a redirect (HTTP ${res.status}); redirects are not followed`);
        }
        if (!res.ok) {
          await res.body?.cancel().catch(() => {});
          throw new Error(`the release source answered HTTP ${res.status}`);
        }
        const declared = Number(res.headers.get("content-length") ?? "");
        if (Number.isFinite(declared) && declared > MAX_RELEASE_BYTES) {
          ctl.abort();
          throw new Error(`the release source is larger than ${MAX_RELEASE_BYTES} bytes`);
        }
        text = await readCapped(res, ctl);
      } finally {
        clearTimeout(timer);
      }
    } else {
      const fh = await open(src, "r");
      try {
        const buf = Buffer.alloc(MAX_RELEASE_BYTES + 1);
        const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
        if (bytesRead > MAX_RELEASE_BYTES) throw new Error(`the release file is larger than ${MAX_RELEASE_BYTES} bytes`);
        text = buf.subarray(0, bytesRead).toString("utf8");
      } finally {
        await fh.close();
      }
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new Error("the release source is not JSON");
    }
    const r = hearthRelease.safeParse(raw);
    if (!r.success) throw new Error(`the release source is not {version, notes?, url?}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
    return r.data;
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
