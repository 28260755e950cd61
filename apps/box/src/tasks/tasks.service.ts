import { setTimeout as sleep } from "node:timers/promises";
import { isHearthError } from "@hearth/contracts";
import type { Logger } from "../logger";
import { TaskError, type TaskContext, type TaskRegistry } from "./registry";
import { appendTaskLog, errorLine, TaskLogFile } from "./task-log";
import type { ClaimedTask, RecoveredTask, TaskOutcome, TaskStore } from "./task-store";
import { progressWriter, type ProgressWriter } from "./progress-writer";

/**
 * The task runner: claims tasks from the store and runs them.
 *
 *  - It looks for work every `pollMs`, at once when woken (admin's POST /wake), and whenever
 *    a running task ends and frees a slot; at most `concurrency` tasks run at once.
 *  - Each running task's lease is renewed every leaseMs/3. If a renewal finds the lease gone
 *    (another box recovered the task after this one stalled), the run is aborted and its
 *    outcome discarded: the row belongs to someone else now.
 *  - Each poll also recovers tasks whose lease expired (a box that died), and at start the
 *    tasks of this box's previous, dead process.
 *  - `stop()` stops claiming, aborts running tasks and gives them back: resumable ones go to
 *    pending (to be run again from the start), others fail as `interrupted`.
 */
export interface TaskRunnerOptions {
  store: TaskStore;
  registry: TaskRegistry;
  boxId: string;
  /** `${boxId}/${instanceId}`: this process's name on leases. */
  leasedBy: string;
  dataDir: string;
  pollMs: number;
  leaseMs: number;
  concurrency: number;
  log: Logger;
  /** How long stop() waits for aborted tasks to return before giving their leases back anyway. */
  shutdownGraceMs?: number;
  /** Told each outcome this runner recorded (main: the admins' task-failed notification); its errors are logged, never thrown. */
  onFinished?: (task: { id: string; type: string; appId: string | null }, outcome: TaskOutcome) => Promise<void>;
}

/** Why the runner aborted a task's signal. */
class RunnerAbort extends Error {
  constructor(readonly kind: "shutdown" | "lease-lost") {
    super(kind === "shutdown" ? "box is shutting down" : "the task's lease was lost");
    this.name = "RunnerAbort";
  }
}

interface RunningTask {
  task: ClaimedTask;
  controller: AbortController;
  /** Set by stop() when it gave the lease back itself; the run's own ending then writes nothing. */
  released: boolean;
  done: Promise<void>;
}

export class TaskRunner {
  private readonly o: Required<TaskRunnerOptions>;
  private readonly running = new Map<string, RunningTask>();
  private pollTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** The claim loop in progress, if any; `again` asks it for one more round. */
  private tick: Promise<void> | null = null;
  private again = false;

  constructor(opts: TaskRunnerOptions) {
    this.o = { shutdownGraceMs: 10_000, onFinished: async () => {}, ...opts };
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Recovers what this box's previous process left running; call once before start(). */
  async recoverAtStartup(): Promise<RecoveredTask[]> {
    const recovered = await this.o.store.recover({
      resumable: (t) => this.o.registry.isResumable(t),
      self: { boxId: this.o.boxId, leasedBy: this.o.leasedBy },
    });
    await this.noteRecovered(recovered);
    return recovered;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedulePoll(0);
  }

  /** Looks for work now (coalesced with a claim loop already running). */
  wake(): void {
    if (this.stopping || !this.started) return;
    this.again = true;
    if (this.tick) return;
    const loop = async () => {
      await null; // so `finally` below always runs after `this.tick` is assigned
      try {
        // The check of `again` and the reset of `tick` happen in one synchronous stretch,
        // so a wake() can never fall between them and be lost.
        while (this.again && !this.stopping) {
          this.again = false;
          await this.claimRound();
        }
      } finally {
        this.tick = null;
      }
    };
    this.tick = loop();
  }

  /** Resolves once no claim loop is running. */
  async settled(): Promise<void> {
    while (this.tick) await this.tick;
  }

  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private schedulePoll(delay: number): void {
    if (this.stopping) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.poll();
    }, delay);
  }

  private async poll(): Promise<void> {
    try {
      const recovered = await this.o.store.recover({ resumable: (t) => this.o.registry.isResumable(t) });
      await this.noteRecovered(recovered);
    } catch (e) {
      this.o.log.error({ err: e }, "recovering expired task leases failed");
    }
    this.wake();
    await this.settled();
    this.schedulePoll(this.o.pollMs);
  }

  /** Claims and launches tasks until the slots are full or nothing is runnable. */
  private async claimRound(): Promise<void> {
    try {
      while (!this.stopping && this.running.size < this.o.concurrency) {
        const task = await this.o.store.claimNext(this.o.leasedBy, this.o.leaseMs, this.o.registry.types());
        if (!task) return;
        if (this.stopping) {
          // claimed while stop() began: give it straight back instead of starting it
          const action = await this.o.store.release(task.id, this.o.leasedBy, this.o.registry.isResumable(task.type));
          if (action === "fail") await this.notifyInterrupted(task);
          return;
        }
        this.launch(task);
      }
    } catch (e) {
      this.o.log.error({ err: e }, "claiming tasks failed");
    }
  }

  private launch(task: ClaimedTask): void {
    const entry: RunningTask = { task, controller: new AbortController(), released: false, done: Promise.resolve() };
    this.running.set(task.id, entry);
    entry.done = this.execute(entry)
      .catch((e) => this.o.log.error({ err: e, taskId: task.id, type: task.type }, "task bookkeeping failed"))
      .finally(() => {
        this.running.delete(task.id);
        this.wake(); // a slot is free
      });
  }

  private async execute(entry: RunningTask): Promise<void> {
    const { task, controller } = entry;
    const { store, registry, leasedBy, log } = this.o;
    const logFile = TaskLogFile.open(this.o.dataDir, task.id);
    if (logFile.failed) log.warn({ err: logFile.failed, taskId: task.id }, "cannot write the task log");
    // The task log is the admin's: what happens, in their words. Which process holds the lease
    // and the attempt bookkeeping go to box's own log.
    logFile.write(task.attempts > 1 ? `=== ${task.type} started again from its start (try ${task.attempts} of ${task.maxAttempts})` : `=== ${task.type} started`);
    log.info({ taskId: task.id, type: task.type, attempt: task.attempts, maxAttempts: task.maxAttempts, leasedBy }, "task started");

    const heartbeat = this.startHeartbeat(entry);
    // progress is written behind the task (best effort); the outcome below is written after it
    const progress = progressWriter(
      (percent, message) => store.updateProgress(task.id, leasedBy, percent, message),
      (e) => log.warn({ err: e, taskId: task.id }, "writing task progress failed"),
    );
    let outcome: TaskOutcome;
    try {
      outcome = await this.runTask(entry, logFile, progress);
    } finally {
      clearInterval(heartbeat);
      await progress.drain();
    }

    // Log lines are written before the database changes they describe: a reader that sees
    // the task finished in the database then finds the whole story in the log.
    const reason: unknown = controller.signal.reason;
    try {
      if (entry.released) {
        logFile.write("stopped: box is shutting down");
        log.warn({ taskId: task.id, type: task.type }, "the task's lease was given back at shutdown");
      } else if (reason instanceof RunnerAbort && reason.kind === "lease-lost") {
        // another box process took the task over (this one stalled): that run writes what follows
        logFile.write("stopped: this run was interrupted");
        log.warn({ taskId: task.id, type: task.type, leasedBy }, "task lease lost; outcome discarded");
      } else if (outcome.state === "failed" && reason instanceof RunnerAbort && reason.kind === "shutdown") {
        const resumable = registry.isResumable(task.type);
        logFile.write(`stopped: box is shutting down; ${resumable ? "the task runs again from its start when box is back" : "this kind of task cannot resume, so it ends as interrupted"}`);
        const action = await store.release(task.id, leasedBy, resumable);
        log.info({ taskId: task.id, type: task.type, action }, "task released at shutdown");
        if (action === "fail") await this.notifyInterrupted(task);
      } else {
        logFile.write(outcome.state === "succeeded" ? "succeeded" : `failed: ${outcome.errorCode}: ${outcome.errorMessage}`);
        const ours = await store.finish(task.id, leasedBy, outcome);
        if (!ours) {
          log.warn({ taskId: task.id, type: task.type }, "task ended after its lease was lost; outcome discarded");
        } else if (outcome.state === "succeeded") log.info({ taskId: task.id, type: task.type }, "task succeeded");
        else log.info({ taskId: task.id, type: task.type, errorCode: outcome.errorCode }, "task failed");
        if (ours) {
          await this.o.onFinished({ id: task.id, type: task.type, appId: task.appId ?? null }, outcome).catch((err) => log.warn({ err, taskId: task.id }, "could not record the task's notification"));
        }
      }
    } finally {
      logFile.close();
    }
  }

  /** Validates args and runs the type's code; turns every ending into an outcome. */
  private async runTask(entry: RunningTask, logFile: TaskLogFile, progress: ProgressWriter): Promise<TaskOutcome> {
    const { task, controller } = entry;
    const { registry, log } = this.o;
    const def = registry.get(task.type);
    if (!def) {
      return { state: "failed", errorCode: "unknown_task_type", errorMessage: `this box does not know the task type '${task.type}'` };
    }
    const check = registry.checkArgs(task.type, task.args);
    if (!check.ok) {
      logFile.write(check.message);
      return { state: "failed", errorCode: "invalid", errorMessage: check.message };
    }
    const ctx: TaskContext = {
      taskId: task.id,
      attempt: task.attempts,
      args: check.args,
      signal: controller.signal,
      log: (line) => logFile.write(line),
      fault: (e, what) => {
        logFile.write(`${what}: ${errorLine(e)}`);
        log.error({ err: e, taskId: task.id, type: task.type }, what);
      },
      progress: async (percent, message) => {
        // the writer keeps the percent from going backwards; the log shows what the admin sees
        const shown = progress.set(percent, message);
        logFile.write(`[${shown}%] ${message}`);
      },
    };
    try {
      const result = await def.run(ctx);
      return { state: "succeeded", result: result === undefined ? undefined : result };
    } catch (e) {
      if (controller.signal.aborted) {
        const why = controller.signal.reason instanceof Error ? controller.signal.reason.message : "aborted";
        return { state: "failed", errorCode: "interrupted", errorMessage: why };
      }
      if (e instanceof TaskError || isHearthError(e)) {
        return { state: "failed", errorCode: e.code, errorMessage: e.message };
      }
      // Unexpected errors: one line (code + message, no stack, no source path) in the task
      // log, which admins read; the whole error with its stack in box's own process log.
      logFile.write(`internal error: ${errorLine(e)}`);
      log.error({ err: e, taskId: task.id, type: task.type }, "task threw an unexpected error");
      return { state: "failed", errorCode: "internal", errorMessage: "internal error; see the task log" };
    }
  }

  private startHeartbeat(entry: RunningTask): NodeJS.Timeout {
    const { task, controller } = entry;
    let inFlight = false;
    return setInterval(
      () => {
        if (inFlight || controller.signal.aborted) return;
        inFlight = true;
        this.o.store
          .heartbeat(task.id, this.o.leasedBy, this.o.leaseMs)
          .then((ours) => {
            if (!ours && !controller.signal.aborted) controller.abort(new RunnerAbort("lease-lost"));
          })
          .catch((e) => this.o.log.warn({ err: e, taskId: task.id }, "task heartbeat failed"))
          .finally(() => {
            inFlight = false;
          });
      },
      Math.max(100, Math.floor(this.o.leaseMs / 3)),
    );
  }

  private async noteRecovered(recovered: RecoveredTask[]): Promise<void> {
    for (const r of recovered) {
      const note = r.action === "resume" ? "box recovered the task after an interruption; it will run again from its start" : "box recovered the task after an interruption; failed: interrupted";
      appendTaskLog(this.o.dataDir, r.id, note);
      this.o.log.warn({ taskId: r.id, type: r.type, action: r.action }, "recovered an interrupted task");
      if (r.action === "fail") await this.notifyInterrupted({ id: r.id, type: r.type, appId: r.appId ?? null }, r.errorMessage);
    }
  }

  /**
   * A task failed as `interrupted` (box stopped or restarted while it ran and it could not
   * resume) tells the admins like any failed task: the same onFinished hook; its errors are logged.
   */
  private async notifyInterrupted(task: { id: string; type: string; appId?: string | null }, errorMessage?: string): Promise<void> {
    await this.o
      .onFinished(
        { id: task.id, type: task.type, appId: task.appId ?? null },
        { state: "failed", errorCode: "interrupted", errorMessage: errorMessage || "box stopped while the task was running, and it could not be resumed" },
      )
      .catch((err) => this.o.log.warn({ err, taskId: task.id }, "could not record the task's notification"));
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    await this.settled(); // a claim in flight either launches its task (aborted below) or releases it
    const entries = [...this.running.values()];
    for (const e of entries) e.controller.abort(new RunnerAbort("shutdown"));
    const all = Promise.all(entries.map((e) => e.done));
    const ac = new AbortController();
    const graceOver = await Promise.race([all.then(() => false), sleep(this.o.shutdownGraceMs, true, { signal: ac.signal }).catch(() => false)]);
    ac.abort();
    if (graceOver) {
      // Tasks that ignore their signal: give their leases back now so they are not stuck until expiry.
      for (const e of entries) {
        if (!this.running.has(e.task.id)) continue;
        e.released = true;
        try {
          const action = await this.o.store.release(e.task.id, this.o.leasedBy, this.o.registry.isResumable(e.task.type));
          this.o.log.warn({ taskId: e.task.id, type: e.task.type, action }, "task did not stop in time; lease given back");
          if (action === "fail") await this.notifyInterrupted(e.task);
        } catch (err) {
          this.o.log.error({ err, taskId: e.task.id }, "giving a task back at shutdown failed");
        }
      }
    }
  }
}
