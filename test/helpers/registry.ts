import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "./nginx";

const run = promisify(execFile);

/**
 * A real private registry for tests: Debian's docker-registry (distribution 2.8) on
 * 127.0.0.1:<port>, its storage in a temp dir, htpasswd auth (bcrypt, `htpasswd -Bbn`).
 * distribution only takes htpasswd auth seriously over TLS, so the helper makes a CA and a
 * server certificate for IP 127.0.0.1 with openssl and puts the CA where dockerd looks for
 * it on every pull (/etc/docker/certs.d/127.0.0.1:<port>/ca.crt), removed by stop().
 * `docker login` / `docker push` run with a DOCKER_CONFIG of the registry's own, so the
 * machine's docker credentials are neither used nor changed.
 */
export interface TestRegistry {
  /** "127.0.0.1:<port>": the registry's name in image references and in Registry rows. */
  host: string;
  port: number;
  username: string;
  password: string;
  /** The CA that signed the registry's certificate (PEM file). */
  caPath: string;
  /** Tags `localRef` as <host>/<repository> and pushes it (logged in); returns the remote reference. */
  push(localRef: string, repository: string): Promise<string>;
  /** GET https://<host><path> with `auth` (default: the registry's user), trusting the CA: the status code. */
  get(urlPath: string, auth?: { username: string; password: string } | null): Promise<number>;
  stop(): Promise<void>;
}

const CERTS_D = "/etc/docker/certs.d";
const REGISTRY_BIN = "/usr/bin/docker-registry";

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run("openssl", args, { cwd }).catch((e: { stderr?: string; message: string }) => {
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  });
}

/** A CA and a server certificate for IP 127.0.0.1 (and localhost), valid for two days. */
async function makeCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  await openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=Hearth test registry CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
  await openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(
    path.join(dir, "server.ext"),
    ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost", ""].join("\n"),
  );
  await openssl(dir, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext");
  return { ca: path.join(dir, "ca.crt"), cert: path.join(dir, "server.crt"), key: path.join(dir, "server.key") };
}

export async function startTestRegistry(opts: { port?: number; username?: string; password?: string } = {}): Promise<TestRegistry> {
  const root = mkdtempSync(path.join(os.tmpdir(), "hearth-registry-"));
  const port = opts.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const username = opts.username ?? "hearth-test";
  const password = opts.password ?? randomBytes(12).toString("base64url");
  const dockerConfig = path.join(root, "docker-config");
  const certsDir = path.join(CERTS_D, host);
  let proc: ChildProcess | null = null;

  const stop = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc!.once("exit", r));
      proc.kill("SIGTERM");
      await Promise.race([exited, sleep(5_000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    }
    rmSync(certsDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  };

  try {
    const { ca, cert, key } = await makeCerts(root);
    const htpasswd = execFileSync("htpasswd", ["-Bbn", username, password], { encoding: "utf8" });
    writeFileSync(path.join(root, "htpasswd"), htpasswd, { mode: 0o600 });
    mkdirSync(path.join(root, "data"));
    mkdirSync(dockerConfig, { mode: 0o700 });
    const config = [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${path.join(root, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      `  secret: ${randomBytes(16).toString("hex")}`,
      "  tls:",
      `    certificate: ${cert}`,
      `    key: ${key}`,
      "auth:",
      "  htpasswd:",
      "    realm: hearth-test",
      `    path: ${path.join(root, "htpasswd")}`,
      "",
    ].join("\n");
    writeFileSync(path.join(root, "config.yml"), config);

    // dockerd reads this directory on every pull and push: it then verifies the registry's certificate with our CA
    mkdirSync(certsDir, { recursive: true });
    copyFileSync(ca, path.join(certsDir, "ca.crt"));
    chmodSync(path.join(certsDir, "ca.crt"), 0o644);

    proc = spawn(REGISTRY_BIN, ["serve", path.join(root, "config.yml")], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const caPem = readFileSync(ca);

    const get = (urlPath: string, auth: { username: string; password: string } | null = { username, password }) =>
      new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
        https
          .get({ host: "127.0.0.1", port, path: urlPath, ca: caPem, headers, timeout: 5_000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on("error", reject)
          .on("timeout", function (this: import("node:http").ClientRequest) {
            this.destroy(new Error("timeout"));
          });
      });

    // ready: /v2/ answers over TLS with our CA, 401 without credentials and 200 with them
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${stderr}`);
      const status = await get("/v2/", null).catch(() => 0);
      if (status === 401) break;
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${host} (last status ${status}): ${stderr}`);
      await sleep(100);
    }
    if ((await get("/v2/")) !== 200) throw new Error(`docker-registry on ${host} refuses its own user: ${stderr}`);

    const docker = async (...args: string[]) => {
      try {
        const { stdout } = await run("docker", ["--config", dockerConfig, ...args], { maxBuffer: 1 << 24 });
        return stdout.trim();
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        throw new Error(`docker ${args[0]} failed: ${err.stderr ?? err.message}`);
      }
    };
    let loggedIn = false;

    return {
      host,
      port,
      username,
      password,
      caPath: path.join(certsDir, "ca.crt"),
      get,
      async push(localRef, repository) {
        if (!loggedIn) {
          // --password-stdin: the password never appears in a process list
          await new Promise<void>((resolve, reject) => {
            const c = spawn("docker", ["--config", dockerConfig, "login", "--username", username, "--password-stdin", host], { stdio: ["pipe", "ignore", "pipe"] });
            let err = "";
            c.stderr!.on("data", (d: Buffer) => (err += d.toString()));
            c.on("error", reject);
            c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`docker login ${host} failed: ${err}`))));
            c.stdin!.end(password);
          });
          loggedIn = true;
        }
        const remote = `${host}/${repository}`;
        await docker("tag", localRef, remote);
        await docker("push", remote);
        return remote;
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
