import { z } from "zod";
import type { TASK_ERROR_CODES, TaskState } from "./enums";
import type { ErrorCode } from "./errors";

/**
 * The task state machine. A task moves pending → running → (succeeded | failed), may be
 * cancelled while pending, and goes back from running to pending only when box recovers it
 * after a crash (attempts left, resumable type).
 */
const TRANSITIONS: Record<TaskState, readonly TaskState[]> = {
  pending: ["running", "cancelled", "failed"],
  running: ["succeeded", "failed", "pending"],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: TaskState, to: TaskState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: TaskState, to: TaskState): void {
  if (!canTransition(from, to)) throw new Error(`task cannot go from ${from} to ${to}`);
}

/** What recovery does with a task whose box died while it was running. */
export function recoveryOf(task: { attempts: number; maxAttempts: number }, resumable: boolean): "resume" | "fail" {
  return resumable && task.attempts < task.maxAttempts ? "resume" : "fail";
}

/** A state no task leaves. */
export function isFinishedTaskState(state: TaskState): boolean {
  return TRANSITIONS[state].length === 0;
}

/** What a failed task's errorCode can be: a task-level code or any HearthError code. */
export type TaskErrorCode = (typeof TASK_ERROR_CODES)[number] | ErrorCode;

/** Task ids go into file paths (the per-task log) and URLs, so they are checked before use. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const sleepTaskArgs = z.strictObject({
  ms: z.number().int().min(0).max(3_600_000),
  steps: z.number().int().min(1).max(1000).default(10),
});
export const failTaskArgs = z.strictObject({ message: z.string().max(500).default("failed on purpose") });
export const crashTaskArgs = z.strictObject({ afterMs: z.number().int().min(0).max(60_000).default(0) });

export type SleepTaskArgs = z.infer<typeof sleepTaskArgs>;
export type FailTaskArgs = z.infer<typeof failTaskArgs>;
export type CrashTaskArgs = z.infer<typeof crashTaskArgs>;

export const taskView = z.object({
  id: z.string(),
  type: z.string(),
  appId: z.string().nullable(),
  state: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]),
  percent: z.number(),
  message: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  attempts: z.number(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type TaskView = z.infer<typeof taskView>;
