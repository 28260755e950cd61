import http from "node:http";

export interface StandInBox {
  server: http.Server;
  /** How many times admin woke box (POST /wake) so far. */
  wakes(): number;
  close(): Promise<void>;
}

/**
 * box's unix socket played by the test, for admin tests that check what admin records: `/wake`
 * answers 204 and is counted (and calls `onWake`), `handle` answers what else the test needs
 * (it returns false for a request it leaves alone), anything else is 404.
 */
export async function startStandInBox(socket: string, o: { onWake?: () => void; handle?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean } = {}): Promise<StandInBox> {
  let wakes = 0;
  const server = http.createServer((req, res) => {
    if (req.url === "/wake") {
      wakes++;
      o.onWake?.();
      res.writeHead(204).end();
      return;
    }
    if (o.handle?.(req, res)) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return { server, wakes: () => wakes, close: () => new Promise<void>((r) => server.close(() => r())) };
}
