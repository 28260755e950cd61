import pino, { type Logger } from "pino";
import { LOG_REDACT_PATHS } from "@hearth/contracts";

export type { Logger };

/** JSON logs on stdout; secrets (passwords, tokens, cookies, the database URL) are redacted. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "admin" },
    redact: { paths: [...LOG_REDACT_PATHS, "req.headers.cookie", "req.headers.authorization"], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
