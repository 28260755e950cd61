import { z } from "zod";

/**
 * Parses process env once with a zod schema. On a bad or missing variable it throws an
 * Error whose message names every offending variable; callers print it and exit.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
  throw new Error(`invalid configuration:\n${lines.join("\n")}`);
}

export const databaseUrl = z.string({ error: "is required" }).regex(/^mysql:\/\/|^mariadb:\/\//, "must be a mysql:// or mariadb:// URL");
export const logLevel = z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info");

/** Redaction paths for pino: secrets never reach the logs. */
export const LOG_REDACT_PATHS = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "passwordHash",
  "*.passwordHash",
  "totp",
  "*.totp",
  "authorization",
  "*.authorization",
  // DNS provider credentials and uploaded keys (domains)
  "tsigSecret",
  "*.tsigSecret",
  "apiKey",
  "*.apiKey",
  "apiToken",
  "*.apiToken",
  "secretAccessKey",
  "*.secretAccessKey",
  "providerConfig",
  "*.providerConfig",
  "customKey",
  "*.customKey",
  "caCertificate",
  "*.caCertificate",
  "headers.cookie",
  "*.headers.cookie",
  "databaseUrl",
  "*.databaseUrl",
  "HEARTH_DATABASE_URL",
];
