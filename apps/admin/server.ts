/**
 * admin's process: Next's request handler on a plain node:http server, plus the one thing
 * Next's route handlers cannot do, WebSocket upgrades for the web terminal
 * (/api/v1/apps/:id/terminal, lib/server/terminal.ts). Every other upgrade is refused.
 * Bundled by build-server.mjs into dist/server.mjs (`npm start`, the systemd unit):
 *
 *   node dist/server.mjs [-H 127.0.0.1] [-p 3000]
 */
import http from "node:http";
import path from "node:path";
import next from "next";
import { context } from "./lib/server/context";
import { start } from "./lib/server/start";
import { closeAllTerminals, createTerminalUpgrade } from "./lib/server/terminal";

function arg(names: string[], fallback: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (names.includes(argv[i]!) && argv[i + 1] !== undefined) return argv[i + 1]!;
  return fallback;
}

async function main(): Promise<void> {
  const hostname = arg(["-H", "--hostname"], "127.0.0.1");
  const port = Number(arg(["-p", "--port"], process.env.PORT ?? "3000"));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`hearth admin: -p must be a port number, not ${JSON.stringify(arg(["-p", "--port"], ""))}\n`);
    process.exit(1);
  }
  const dir = path.resolve(import.meta.dirname, "..");
  // parse the environment, connect and migrate before taking requests (as instrumentation.ts)
  await start();
  // Next's custom-server wrapper adds its own `upgrade` listener to the server of the first
  // request it handles (or to `httpServer`), and that listener ends every upgrade it does not
  // know (in production all of them), racing the terminal's. It gets a server of its own that
  // never listens, so only ours sees upgrades.
  const app = next({ dev: false, dir, hostname, port, httpServer: new http.Server() });
  const handle = app.getRequestHandler();
  await app.prepare();

  const terminal = createTerminalUpgrade({
    context,
    ...(process.env.HEARTH_TEST_TERMINAL_CHECK_MS ? { checkMs: Number(process.env.HEARTH_TEST_TERMINAL_CHECK_MS) } : {}),
    ...(process.env.HEARTH_TEST_TERMINAL_IDLE_MS ? { idleMs: Number(process.env.HEARTH_TEST_TERMINAL_IDLE_MS) } : {}),
  });
  const server = http.createServer((req, res) => void handle(req, res));
  // nginx in front bounds slow clients; Node's default (300 s) would cut a long upload or
  // download mid-way (an upload cut off is refused by box, but the admin's work is lost)
  server.requestTimeout = 0;
  server.on("upgrade", (req, socket, head) => {
    terminal(req, socket, head)
      .then((mine) => {
        if (!mine) socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      })
      .catch((e) => {
        process.stderr.write(`hearth admin: a WebSocket upgrade failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, hostname, () => resolve());
  });
  process.stdout.write(`hearth admin: listening on http://${hostname}:${port}\n`);

  const stop = () => {
    setTimeout(() => process.exit(0), 5000).unref();
    // the terminals' close events are written before the process exits
    void closeAllTerminals().finally(() => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
    });
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((e) => {
  process.stderr.write(`hearth admin: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
