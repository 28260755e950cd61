"use client";

import type { ApiError } from "../../lib/client/api";
import { ACME_PRESETS, acmeUrlOf, type AcmeFormValues, type AcmePreset } from "../../lib/client/acme";
import { Field } from "./Field";
import { PemField } from "./PemField";

/**
 * The ACME certificate authority's settings as two pieces (the first-run step shows the
 * email and folds the rest away): the contact email, and the directory (a preset or a URL)
 * with the CA certificate to trust for a private CA's own HTTPS.
 */
interface AcmeFieldsProps {
  idPrefix: string;
  values: AcmeFormValues;
  onChange: (v: AcmeFormValues) => void;
  error: ApiError | null;
  /** errors found before sending, by field */
  local?: Record<string, string>;
}

export function AcmeEmailField({ idPrefix, values, onChange, error, local }: AcmeFieldsProps) {
  return (
    <Field
      id={`${idPrefix}-email`}
      label="Email for the certificate authority"
      type="email"
      required
      value={values.email}
      onChange={(e) => onChange({ ...values, email: e.target.value })}
      hint="The CA may send expiry warnings here. It is not published."
      error={local?.email ?? error?.fieldError("email")}
    />
  );
}

export function AcmeDirectoryFields({ idPrefix, values, onChange, error, local }: AcmeFieldsProps) {
  const urlError = local?.directoryUrl ?? error?.fieldError("directoryUrl");
  return (
    <>
      <div className="field">
        <label htmlFor={`${idPrefix}-directory`}>Certificate authority</label>
        <select
          id={`${idPrefix}-directory`}
          value={values.preset}
          onChange={(e) => onChange({ ...values, preset: e.target.value as AcmePreset })}
          aria-invalid={urlError && values.preset !== "custom" ? true : undefined}
        >
          {ACME_PRESETS.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
        {values.preset !== "custom" ? <p className="hint mono">{acmeUrlOf(values.preset, "")}</p> : null}
      </div>
      {values.preset === "custom" ? (
        <Field
          id={`${idPrefix}-directory-url`}
          label="ACME directory URL"
          type="url"
          required
          value={values.customUrl}
          onChange={(e) => onChange({ ...values, customUrl: e.target.value })}
          placeholder="https://ca.example.com/acme/acme/directory"
          spellCheck={false}
          error={urlError}
        />
      ) : null}
      <PemField
        id={`${idPrefix}-ca`}
        label="CA certificate to trust (optional)"
        value={values.caCertificate}
        onChange={(v) => onChange({ ...values, caCertificate: v })}
        hint="Only for a private CA whose directory has its own HTTPS certificate (step-ca, a test CA): the PEM of the CA that signed it."
        placeholder="-----BEGIN CERTIFICATE-----"
        rows={4}
        error={local?.caCertificate ?? error?.fieldError("caCertificate")}
      />
    </>
  );
}
