/**
 * The one error type of Hearth. Domain code throws it; `httpStatusOf` is the one place
 * that maps a code to an HTTP status. Wire shape: { error: { code, message, details? } }.
 */
export const ERROR_CODES = ["not_found", "conflict", "bad_state", "invalid", "forbidden", "unauthorized", "rate_limited", "external", "internal"] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const HTTP_STATUS: Record<ErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  bad_state: 409,
  invalid: 400,
  forbidden: 403,
  unauthorized: 401,
  rate_limited: 429,
  external: 502,
  internal: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

export class HearthError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** Extra response headers, e.g. Retry-After for rate_limited. */
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, opts: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "HearthError";
    this.code = code;
    this.details = opts.details;
    this.headers = opts.headers;
  }

  get status(): number {
    return httpStatusOf(this.code);
  }

  toWire(): ErrorBody {
    const body: ErrorBody = { error: { code: this.code, message: this.message } };
    if (this.details !== undefined) body.error.details = this.details;
    return body;
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/**
 * True for a HearthError, also one made by another copy of this module (bundlers such as
 * Next's give separately bundled entry points their own copy, so instanceof is not enough).
 */
export function isHearthError(e: unknown): e is HearthError {
  if (e instanceof HearthError) return true;
  return e instanceof Error && e.name === "HearthError" && (ERROR_CODES as readonly string[]).includes((e as { code?: unknown }).code as string);
}

/** Any thrown value as a HearthError; unknown errors become `internal` without leaking their text. */
export function toHearthError(e: unknown): HearthError {
  if (e instanceof HearthError) return e;
  if (isHearthError(e)) {
    const x = e as HearthError;
    return new HearthError(x.code, x.message, { details: x.details, headers: x.headers, cause: e });
  }
  return new HearthError("internal", "Internal error", { cause: e });
}
