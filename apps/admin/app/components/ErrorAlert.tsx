import { ApiError, errorText } from "../../lib/client/api";

/**
 * The error of a query or a mutation as an alert, or nothing when there is none. A form that
 * shows some fields' validation errors beside them names those `fields`: a validation error
 * whose every issue is one of them needs no second, general alert.
 */
export function ErrorAlert({ error, fields, className }: { error: unknown; fields?: readonly string[]; className?: string }) {
  if (!error) return null;
  if (fields && error instanceof ApiError && error.onlyAtFields(fields)) return null;
  return (
    <div className={className ? `alert alert-error ${className}` : "alert alert-error"} role="alert">
      {errorText(error)}
    </div>
  );
}
