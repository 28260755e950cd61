import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { freePort } from "../test/helpers/admin";

export interface StaticBaseline {
  url: string;
  port: number;
  /** what serves it, for the printed figures */
  kind: string;
  /** the serving process (its tree is what the benches measure) */
  pid: number;
  /** stops it and removes its folder */
  stop(): Promise<void>;
}

/**
 * The benches' baseline for an API response: a throwaway nginx (one worker, own prefix,
 * config and pid file in a temp folder, a free port on 127.0.0.1) serving `body` as the
 * static file `/<file>`; a plain Node http server with the body in memory where there is no
 * nginx. bench/apps-api.ts and bench/scale.ts compare admin's apps list with it.
 */
export async function startStaticBaseline(body: Buffer, file = "apps.json"): Promise<StaticBaseline> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-bench-static-"));
  // nginx's workers run as an unprivileged user: they must be able to read the folder
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, file), body, { mode: 0o644 });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/${file}`;
  const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
  if (nginx) {
    const conf = path.join(dir, "nginx.conf");
    writeFileSync(
      conf,
      `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  default_type application/json;
  server {
    listen 127.0.0.1:${port};
    root ${dir};
    location = /${file} { add_header cache-control no-store; }
  }
}
`,
    );
    const child: ChildProcess = spawn(nginx, ["-p", dir, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    const stop = async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGQUIT");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) {
        await stop();
        throw new Error(`baseline nginx exited: ${err}`);
      }
      const ok = await fetch(url)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (i > 100) {
        const log = readFileSync(path.join(dir, "error.log"), "utf8");
        await stop();
        throw new Error(`baseline nginx did not answer: ${err}${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return { url, port, kind: "nginx (1 worker), static file", pid: child.pid!, stop };
  }
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": body.length, "cache-control": "no-store" });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url,
    port,
    kind: "node http, in-memory body",
    pid: process.pid,
    stop: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
