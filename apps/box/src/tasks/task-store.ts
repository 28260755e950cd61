import { claimNext, finishTask, heartbeat, recoverTasks, releaseTask, updateProgress, type Db, type RecoveredTask, type RecoverOptions, type RecoveryAction, type TaskOutcome } from "@hearth/db";

/**
 * The runner's view of the task table. The real one is the Prisma repository in
 * packages/db; unit tests pass an in-memory fake.
 */
export interface ClaimedTask {
  id: string;
  type: string;
  appId: string | null;
  args: unknown;
  attempts: number;
  maxAttempts: number;
}

export interface TaskStore {
  claimNext(leasedBy: string, leaseMs: number, knownTypes: readonly string[]): Promise<ClaimedTask | null>;
  heartbeat(id: string, leasedBy: string, leaseMs: number): Promise<boolean>;
  updateProgress(id: string, leasedBy: string, percent: number, message: string): Promise<boolean>;
  finish(id: string, leasedBy: string, outcome: TaskOutcome): Promise<boolean>;
  release(id: string, leasedBy: string, resumable: boolean): Promise<RecoveryAction | null>;
  recover(opts: RecoverOptions): Promise<RecoveredTask[]>;
}

export type { RecoveredTask, RecoverOptions, RecoveryAction, TaskOutcome };

export function prismaTaskStore(db: Db): TaskStore {
  return {
    claimNext: (leasedBy, leaseMs, knownTypes) => claimNext(db, leasedBy, leaseMs, knownTypes),
    heartbeat: (id, leasedBy, leaseMs) => heartbeat(db, id, leasedBy, leaseMs),
    updateProgress: (id, leasedBy, percent, message) => updateProgress(db, id, leasedBy, percent, message),
    finish: (id, leasedBy, outcome) => finishTask(db, id, leasedBy, outcome),
    release: (id, leasedBy, resumable) => releaseTask(db, id, leasedBy, resumable),
    recover: (opts) => recoverTasks(db, opts),
  };
}
