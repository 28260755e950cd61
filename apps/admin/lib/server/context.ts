import { createDb, createNamedLocks, deleteExpiredSessions, migrate, sealPlainTotpSecrets, sealSecret, type Db, type NamedLocks } from "@hearth/db";
import { loadConfig, type AdminConfig } from "../config";
import { createLogger, type Logger } from "../logger";
import { dummyHash } from "../passwords";
import { SESSION_MAX_AGE_MS } from "../tokens";

/**
 * The process-wide singletons. Next bundles instrumentation.ts, route handlers and pages
 * separately, so module state is not shared between them: the context lives on globalThis.
 * Keep only plain resources here (config, logger, database pool): objects made by one
 * bundle carry that bundle's copies of our classes (an error they throw is not `instanceof`
 * the HearthError a route sees), so anything with product logic is made per bundle.
 */
export interface AdminContext {
  config: AdminConfig;
  logger: Logger;
  db: Db;
  /** MySQL named locks, on a small pool of their own */
  locks: NamedLocks;
}

interface State {
  ctx?: AdminContext;
  booting?: Promise<AdminContext>;
}

const KEY = Symbol.for("hearth.admin.state");
const g = globalThis as unknown as { [KEY]?: State };
function state(): State {
  return (g[KEY] ??= {});
}

function create(): AdminContext {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = createDb(config.databaseUrl, { connectionLimit: 10 });
  return { config, logger, db, locks: createNamedLocks(config.databaseUrl) };
}

/** Builds the context and applies migrations; runs once per process. */
export function boot(): Promise<AdminContext> {
  const s = state();
  s.booting ??= (async () => {
    const ctx = (s.ctx ??= create());
    const r = await migrate(ctx.config.databaseUrl, {
      migrationsDir: ctx.config.migrationsDir,
      log: (msg) => ctx.logger.info(msg),
    });
    ctx.logger.info({ applied: r.applied.length, alreadyApplied: r.alreadyApplied.length, boxSocket: ctx.config.boxSocket }, "admin ready");
    void dummyHash();
    // TOTP secrets stored before they were sealed: seal them now
    const key = ctx.config.secretKey;
    if (key) {
      await sealPlainTotpSecrets(ctx.db, (s) => sealSecret(key, s))
        .then((n) => n > 0 && ctx.logger.info({ sealed: n }, "sealed stored TOTP secrets"))
        .catch((e) => ctx.logger.warn({ err: e }, "could not seal stored TOTP secrets"));
    }
    // expired sessions are refused on use; this only keeps the table small
    const prune = () =>
      deleteExpiredSessions(ctx.db, new Date(), new Date(Date.now() - SESSION_MAX_AGE_MS))
        .then((n) => n > 0 && ctx.logger.info({ deleted: n }, "pruned expired sessions"))
        .catch((e) => ctx.logger.warn({ err: e }, "could not prune sessions"));
    void prune();
    setInterval(prune, 3600_000).unref();
    return ctx;
  })();
  return s.booting;
}

/** The ready context (boots on first use if instrumentation did not). */
export function context(): Promise<AdminContext> {
  return boot();
}
