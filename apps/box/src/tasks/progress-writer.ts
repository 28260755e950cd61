/**
 * A running task's progress goes to its row behind the task, not on its path: `set` returns at
 * once, one write runs at a time, and a value set while a write runs replaces any value still
 * waiting (only the newest is worth writing). An install made ~12 progress calls, each an
 * awaited UPDATE with a commit (5–10 ms on a loaded machine), all on the way to the app's
 * first answer. The runner drains the writer before it records the task's outcome, so the
 * outcome is always the row's last word. Progress stays best effort: a failed write goes to
 * `onError` (losing the lease is the heartbeat's business).
 */
export interface ProgressWriter {
  set(percent: number, message: string): void;
  /** Resolves once every value set so far has been written (or failed). */
  drain(): Promise<void>;
}

export function progressWriter(write: (percent: number, message: string) => Promise<unknown>, onError: (e: unknown) => void): ProgressWriter {
  let next: { percent: number; message: string } | null = null;
  let running: Promise<void> | null = null;
  const loop = async () => {
    try {
      while (next) {
        const v = next;
        next = null;
        try {
          await write(v.percent, v.message);
        } catch (e) {
          onError(e);
        }
      }
    } finally {
      running = null;
    }
  };
  return {
    set(percent, message) {
      next = { percent, message };
      running ??= loop();
    },
    drain: () => running ?? Promise.resolve(),
  };
}
