"use client";

import { useId, type ChangeEvent } from "react";

/**
 * PEM text: pasted into the textarea, or read from a file the admin picks (the file never
 * leaves the browser except as this text). `hint` says what goes in; `error` is the server's
 * message for the field.
 */
export function PemField({
  id,
  label,
  value,
  onChange,
  hint,
  error,
  placeholder,
  rows = 6,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  hint?: string;
  error?: string;
  placeholder?: string;
  rows?: number;
}) {
  const fileId = useId();
  const describedBy = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(" ") || undefined;

  async function pick(e: ChangeEvent<HTMLInputElement>) {
    const f = e.target.files?.[0];
    e.target.value = "";
    if (!f) return;
    // certificates and keys are small; anything big is not one (the server refuses over 64 KiB)
    if (f.size > 256 * 1024) {
      onChange("");
      return;
    }
    onChange(await f.text());
  }

  return (
    <div className="field">
      <div className="field-label-row">
        <label htmlFor={id}>{label}</label>
        <label className="btn btn-sm file-btn" htmlFor={fileId}>
          Choose file…
        </label>
        <input id={fileId} className="sr-only" type="file" accept=".pem,.crt,.cer,.key,.txt,application/x-pem-file,text/plain" onChange={pick} aria-label={`${label}: read from a file`} />
      </div>
      <textarea
        id={id}
        name={id}
        className="pem"
        rows={rows}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder ?? "-----BEGIN …-----"}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
      />
      {hint && !error ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error.charAt(0).toUpperCase() + error.slice(1)}
        </p>
      ) : null}
    </div>
  );
}
