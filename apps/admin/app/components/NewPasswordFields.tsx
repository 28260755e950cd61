import { Field } from "./Field";

/**
 * A new password and its confirmation, as the first-run form and the password change ask
 * for them: both `new-password` for password managers, the length rule in the hint, and the
 * mismatch shown on the confirmation.
 */
export function NewPasswordFields({
  id,
  label,
  hint,
  value,
  onChange,
  confirm,
  onConfirmChange,
  mismatch,
  error,
}: {
  /** The password field's id; the confirmation's is `confirm-<id>`. */
  id: string;
  label: string;
  hint: string;
  value: string;
  onChange: (v: string) => void;
  confirm: string;
  onConfirmChange: (v: string) => void;
  mismatch: boolean;
  error?: string;
}) {
  return (
    <>
      <Field id={id} label={label} type="password" autoComplete="new-password" required value={value} onChange={(e) => onChange(e.target.value)} hint={hint} error={error} />
      <Field
        id={`confirm-${id}`}
        label={`Confirm ${label.toLowerCase()}`}
        type="password"
        autoComplete="new-password"
        required
        value={confirm}
        onChange={(e) => onConfirmChange(e.target.value)}
        error={mismatch ? "The passwords do not match." : undefined}
      />
    </>
  );
}
