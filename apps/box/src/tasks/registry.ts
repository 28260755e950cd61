import type { z } from "zod";
import type { TaskErrorCode } from "@hearth/contracts";

/**
 * What a task's code sees while it runs.
 *
 * Contract for every task type: **each step is idempotent**. A task can be interrupted at any
 * point (crash, reboot, lost lease, shutdown) and a resumable type is then run again from its
 * start, on this box or another. So a step checks before it acts ("create the container
 * unless it exists", "write the vhost file, then reload") and never assumes a previous
 * attempt did or did not get somewhere. A type that cannot meet this contract sets
 * `resumable: false`; an interrupted run of it ends failed with `interrupted` instead.
 */
export interface TaskContext<A = unknown> {
  readonly taskId: string;
  /** 1 on the first run, 2 when resumed after an interruption, … */
  readonly attempt: number;
  /** The args, already validated by the type's schema. */
  readonly args: A;
  /** Records percent (0..100) and a short message for the UI's progress bar. Best effort. */
  progress(percent: number, message: string): Promise<void>;
  /** Appends a line (or lines) to the task's log file, with a timestamp. Never for secrets. */
  log(line: string): void;
  /** Aborted when box shuts down or loses the task's lease: stop at the next safe point. */
  readonly signal: AbortSignal;
  /**
   * An unexpected error the task handles itself (e.g. an update that rolls back): the task
   * log gets its code and one line (errorLine), box's process log the whole error with its
   * stack. Never write a stack or a source path to the task log directly.
   */
  fault?(e: unknown, what: string): void;
}

export interface TaskDefinition<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  /** Can an interrupted run be started again from the beginning? See TaskContext. */
  readonly resumable: boolean;
  /** Schema of the task's JSON args. */
  readonly args: S;
  /** Does the work; the value it returns (JSON) is stored as the task's result. */
  run(ctx: TaskContext<z.output<S>>): Promise<unknown>;
}

/** Keeps the schema's type for `run`'s ctx.args while the registry holds plain definitions. */
export function defineTask<S extends z.ZodType>(def: TaskDefinition<S>): TaskDefinition<S> {
  return def;
}

/**
 * The expected way for a task to fail: the task ends `failed` with this code and message,
 * both shown to the admin. Any other thrown error ends it with `internal` and a generic
 * message (its text goes only to the task log, since driver errors can carry secrets).
 */
export class TaskError extends Error {
  readonly code: TaskErrorCode;
  constructor(message: string, code: TaskErrorCode = "task_failed", opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "TaskError";
    this.code = code;
  }
}

export type ArgsCheck = { ok: true; args: unknown } | { ok: false; message: string };

const TYPE_NAME = /^_?[a-z][a-z0-9_.-]{0,63}$/;

export class TaskRegistry {
  private readonly defs = new Map<string, TaskDefinition>();

  constructor(defs: Iterable<TaskDefinition> = []) {
    for (const d of defs) this.register(d);
  }

  register(def: TaskDefinition): void {
    if (!TYPE_NAME.test(def.type)) throw new Error(`bad task type name '${def.type}'`);
    if (this.defs.has(def.type)) throw new Error(`task type '${def.type}' is registered twice`);
    this.defs.set(def.type, def);
  }

  get(type: string): TaskDefinition | undefined {
    return this.defs.get(type);
  }

  types(): string[] {
    return [...this.defs.keys()];
  }

  /** Unknown types are not resumable: nothing here could run them again. */
  isResumable(type: string): boolean {
    return this.defs.get(type)?.resumable ?? false;
  }

  /** Validates raw JSON args against the type's schema (defaults applied). */
  checkArgs(type: string, raw: unknown): ArgsCheck {
    const def = this.defs.get(type);
    if (!def) return { ok: false, message: `unknown task type '${type}'` };
    const r = def.args.safeParse(raw);
    if (r.success) return { ok: true, args: r.data };
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(args)"}: ${i.message}`);
    return { ok: false, message: `invalid task arguments: ${issues.join("; ")}` };
  }
}
