"use client";

import "@xterm/xterm/css/xterm.css";
import { useCallback, useEffect, useRef, useState } from "react";
import type { FitAddon } from "@xterm/addon-fit";
import type { Terminal } from "@xterm/xterm";
import styles from "./AppTerminal.module.css";

/** Bytes per frame sent (contracts' TERMINAL_MAX_FRAME_BYTES is 64 KiB). */
const FRAME = 16 * 1024;

type Phase = { kind: "closed"; message?: string } | { kind: "connecting" } | { kind: "open" };

/** Why the session ended, for the close codes of contracts' TERMINAL_CLOSE. */
function closeMessage(code: number, reason: string): string {
  if (reason) return `Terminal closed: ${reason}.`;
  if (code === 1006) return "The connection to the terminal was lost (or it was refused: only admins may open one, and the app must be running).";
  return "Terminal closed.";
}

/**
 * A shell in the app's running container (xterm.js; the WebSocket protocol is in contracts'
 * terminal.ts): admin relays it to box, which runs `docker exec` with a TTY. xterm.js is loaded
 * only when the admin opens the terminal. The session ends when the shell exits, the app stops,
 * after 15 minutes without input, or when the admin's session ends.
 */
export function AppTerminal({ appId, running }: { appId: string; running: boolean }) {
  const [phase, setPhase] = useState<Phase>({ kind: "closed" });
  const host = useRef<HTMLDivElement>(null);
  const session = useRef<{ term: Terminal; fit: FitAddon; ws: WebSocket; observer: ResizeObserver } | null>(null);

  const teardown = useCallback(() => {
    const s = session.current;
    session.current = null;
    if (!s) return;
    s.observer.disconnect();
    if (s.ws.readyState === WebSocket.OPEN || s.ws.readyState === WebSocket.CONNECTING) s.ws.close(1000);
    s.term.dispose();
  }, []);

  useEffect(() => teardown, [teardown]);

  const open = useCallback(async () => {
    teardown();
    setPhase({ kind: "connecting" });
    const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
    const el = host.current;
    if (!el) return;
    const term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000, fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${window.location.host}/api/v1/apps/${encodeURIComponent(appId)}/terminal?cols=${term.cols}&rows=${term.rows}`;
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    const encoder = new TextEncoder();
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(el);
    session.current = { term, fit, ws, observer };

    ws.onopen = () => {
      setPhase({ kind: "open" });
      term.focus();
    };
    ws.onmessage = (ev) => {
      if (ev.data instanceof ArrayBuffer) term.write(new Uint8Array(ev.data));
    };
    ws.onclose = (ev) => {
      if (session.current?.ws !== ws) return;
      setPhase({ kind: "closed", message: closeMessage(ev.code, ev.reason) });
      term.options.disableStdin = true;
      observer.disconnect();
    };
    term.onData((data) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // a long paste goes in frames well below the servers' 64 KiB limit
      const bytes = encoder.encode(data);
      for (let i = 0; i < bytes.length; i += FRAME) ws.send(bytes.subarray(i, i + FRAME));
    });
    term.onResize(({ cols, rows }) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resize", cols, rows }));
    });
  }, [appId, teardown]);

  const close = useCallback(() => {
    teardown();
    setPhase({ kind: "closed" });
  }, [teardown]);

  const live = phase.kind === "open" || phase.kind === "connecting";
  const shown = live || (phase.kind === "closed" && phase.message !== undefined && session.current !== null);

  return (
    <section className="card" aria-labelledby="terminal-heading">
      <div className={styles.head}>
        <h2 id="terminal-heading">Terminal</h2>
        <div className={styles.actions}>
          {live ? (
            <button type="button" className="btn" onClick={close}>
              Close terminal
            </button>
          ) : (
            <button type="button" className="btn" onClick={() => void open()} disabled={!running}>
              {phase.kind === "closed" && phase.message ? "Open a new terminal" : "Open terminal"}
            </button>
          )}
        </div>
      </div>
      <p className="muted">
        A shell in the app&apos;s running container, as the container&apos;s user. Each session is recorded in the event log (who, when, how long; never what is typed). It closes after 15 minutes
        without input, when the app stops and when you sign out.
      </p>
      {!running ? <p className={styles.note}>The app is not running: start it to open a terminal.</p> : null}
      {phase.kind === "connecting" ? <p className={styles.note}>Connecting…</p> : null}
      {phase.kind === "closed" && phase.message ? (
        <p className={styles.note} role="status">
          {phase.message}
        </p>
      ) : null}
      <div ref={host} className={styles.screen} hidden={!shown} role="application" aria-label="App terminal" />
    </section>
  );
}
