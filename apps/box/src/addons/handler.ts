import type { StepContext } from "../tasks/steps";

/**
 * One addon kind (mysql, postgresql, redis, sendmail, localstorage) as the provisioner
 * drives it. The provisioner (apps/box/src/addons/provisioner.ts) owns the AppAddon rows:
 * it seals what `provision` returns as `credentials` with HEARTH_SECRET_KEY, hands them back
 * on every later call, and deletes the row after `deprovision`.
 *
 * Contract: every method is idempotent and safe to run again after a crash at any point
 * (a box killed mid-install runs the task again from the start). Secrets never go to
 * ctx.log, never into argv of a process (use stdin or a 0600 file), never into errors.
 */
export interface AddonApp {
  id: string;
  /** `<subdomain>.<domain>` (or the domain), e.g. for a mail sender address */
  fqdn: string;
  domain: string;
  subdomain: string;
  /** Docker network of the app (hearth-app-<id>): connect services there, never to a shared network */
  network: string;
}

export interface ProvisionResult {
  /** HEARTH_* variables for the app's container */
  env: Record<string, string>;
  /** what to keep (sealed) for the next calls: passwords, names … */
  credentials: Record<string, string>;
}

export interface AddonHandler {
  readonly name: "mysql" | "postgresql" | "redis" | "sendmail" | "localstorage";
  /**
   * Makes sure the app has what the addon gives it. `previous` is what the last call
   * returned as credentials (null on the first call): reuse it, so passwords stay stable.
   */
  provision(app: AddonApp, options: Record<string, unknown>, previous: Record<string, string> | null, ctx: StepContext): Promise<ProvisionResult>;
  /** Removes everything of this app's (database, user, container, relay account …). No-op when gone. */
  deprovision(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void>;
  /** Writes the addon's data for this app into `dir` (the app's backup area). Optional. */
  backup?(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void>;
  /** Replaces the addon's data for this app with what `backup` wrote into `dir`. Optional. */
  restore?(app: AddonApp, credentials: Record<string, string>, dir: string, ctx: StepContext): Promise<void>;
  /**
   * Uninstall keeps the data: let go of the app's network (a shared service disconnects, a
   * per-app container goes) and delete nothing. Optional (nothing to let go of).
   */
  detach?(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void>;
  /**
   * Every app this addon holds data for, by the names it gives them (orphan detection).
   * null when it cannot look now (its service is not running): nothing is concluded then.
   */
  appsWithData?(): Promise<{ appId: string; name: string }[] | null>;
  /** Empties the addon's data for this app (keeps the database/user). Optional. */
  clear?(app: AddonApp, credentials: Record<string, string>, ctx: StepContext): Promise<void>;
}
