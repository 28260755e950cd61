import pino from "pino";
import { LOG_REDACT_PATHS } from "@hearth/contracts";

export type Logger = pino.Logger;

/**
 * box logs JSON lines to stdout (the service manager keeps them). Known secret fields are
 * redacted, and task code never passes task args to the logger at all: they may hold
 * credentials, so log lines name a task by id and type only.
 */
export function createLogger(level: string, boxId: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: "box", boxId, pid: process.pid },
    redact: { paths: [...LOG_REDACT_PATHS], censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
