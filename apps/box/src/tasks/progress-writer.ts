/**
 * A running task's progress goes to its row behind the task, not on its path: `set` returns at
 * once, one write runs at a time, and a value set while a write runs replaces any value still
 * waiting (only the newest is worth writing). An install made ~12 progress calls, each an
 * awaited UPDATE with a commit (5–10 ms on a loaded machine), all on the way to the app's
 * first answer. The runner drains the writer before it records the task's outcome, so the
 * outcome is always the row's last word. Progress stays best effort: a failed write goes to
 * `onError` (losing the lease is the heartbeat's business).
 *
 * The percent an admin sees never goes backwards within an attempt: a value below the highest
 * one set so far is written as that highest value, with its new message (a step that reports
 * less than the step before it, or an update's rollback, moves the message on, not the bar
 * back). Values are rounded and kept within 0..100. A resumed task's next attempt starts
 * again from 0 (the claim resets the row: the task runs again from its start).
 */
export interface ProgressWriter {
  /** Queues the value; returns the percent that will be written (never below an earlier one). */
  set(percent: number, message: string): number;
  /** Resolves once every value set so far has been written (or failed). */
  drain(): Promise<void>;
}

export function progressWriter(write: (percent: number, message: string) => Promise<unknown>, onError: (e: unknown) => void): ProgressWriter {
  let next: { percent: number; message: string } | null = null;
  let highest = 0;
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
      const p = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
      highest = Math.max(highest, p);
      next = { percent: highest, message };
      running ??= loop();
      return highest;
    },
    drain: () => running ?? Promise.resolve(),
  };
}
