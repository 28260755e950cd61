"use client";

import type { DomainProvider, DomainView, TlsMode } from "@hearth/contracts";
import type { ApiError } from "../../lib/client/api";
import { PROVIDERS, keepsSecret, providerInfo, providerShortLabel, tlsModesFor, TLS_MODE_INFO, type DomainFormValues } from "../../lib/client/domains";
import { Field } from "./Field";
import { PemField } from "./PemField";

/** The fields the form shows errors beside (ErrorAlert `fields`): the rest need the general alert. */
export function domainFormFields(provider: DomainProvider): string[] {
  return ["domain", "provider", "tlsMode", "customCertificate", "customKey", ...providerInfo(provider).fields.map((f) => `providerConfig.${f.name}`)];
}

/**
 * A domain's settings: name, DNS provider with its settings, TLS mode and (custom) the
 * certificate and key. Used by the Domains page (add, edit) and the first-run domain step.
 *
 * Secrets are never shown back: editing, a secret field is empty and keeps the saved value
 * unless something is typed. Errors: `local` (missing fields, caught before sending) first,
 * else the server's issue at the same path.
 */
export function DomainFields({
  idPrefix,
  values,
  onChange,
  editing,
  error,
  local,
}: {
  idPrefix: string;
  values: DomainFormValues;
  onChange: (v: DomainFormValues) => void;
  editing: DomainView | null;
  error: ApiError | null;
  local: Record<string, string>;
}) {
  const info = providerInfo(values.provider);
  const modes = tlsModesFor(values.provider);
  const mode = TLS_MODE_INFO.find((m) => m.value === values.tlsMode);
  const config = values.config[values.provider] ?? {};
  const errorOf = (path: string) => local[path] ?? error?.errorAt(path.split("."));
  const keepSecret = keepsSecret(editing, values.provider);
  const hadCustom = editing?.tlsMode === "custom" && editing.hasCustomCertificate;

  function setProvider(p: DomainProvider) {
    // the wildcard mode needs DNS-01: a provider without an API cannot keep it
    const tlsMode: TlsMode = tlsModesFor(p).some((m) => m.value === values.tlsMode) ? values.tlsMode : "letsencrypt";
    onChange({ ...values, provider: p, tlsMode });
  }
  function setConfig(name: string, value: string) {
    onChange({ ...values, config: { ...values.config, [values.provider]: { ...config, [name]: value } } });
  }

  return (
    <>
      {editing ? null : (
        <Field
          id={`${idPrefix}-domain`}
          label="Domain"
          required
          value={values.domain}
          onChange={(e) => onChange({ ...values, domain: e.target.value })}
          placeholder="example.com"
          autoCapitalize="none"
          spellCheck={false}
          hint="Apps get names under it (wiki.example.com); the first domain also serves this dashboard at my.example.com."
          error={errorOf("domain")}
        />
      )}
      <div className="field">
        <label htmlFor={`${idPrefix}-provider`}>DNS provider</label>
        <select id={`${idPrefix}-provider`} value={values.provider} onChange={(e) => setProvider(e.target.value as DomainProvider)} aria-describedby={`${idPrefix}-provider-hint`}>
          <optgroup label="Hearth creates the records">
            {PROVIDERS.filter((p) => p.api).map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </optgroup>
          <optgroup label="You create the records">
            {PROVIDERS.filter((p) => !p.api).map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </optgroup>
        </select>
        <p className="hint" id={`${idPrefix}-provider-hint`}>
          {info.hint}
        </p>
        {errorOf("provider") ? <p className="field-error">{errorOf("provider")}</p> : null}
      </div>

      {info.fields.length > 0 ? (
        <fieldset className="env-rows provider-settings">
          <legend>{providerShortLabel(values.provider)} settings</legend>
          <div className="settings-grid">
            {info.fields.map((f) => {
              const id = `${idPrefix}-pc-${f.name}`;
              const err = errorOf(`providerConfig.${f.name}`);
              if (f.kind === "select") {
                return (
                  <div className="field" key={`${values.provider}-${f.name}`}>
                    <label htmlFor={id}>{f.label}</label>
                    <select id={id} value={config[f.name] || f.defaultValue || ""} onChange={(e) => setConfig(f.name, e.target.value)} aria-invalid={err ? true : undefined}>
                      {(f.options ?? []).map((o) => (
                        <option key={o} value={o}>
                          {o}
                        </option>
                      ))}
                    </select>
                    {err ? <p className="field-error">{err.charAt(0).toUpperCase() + err.slice(1)}</p> : null}
                  </div>
                );
              }
              const secretHint =
                f.kind === "secret" && keepSecret
                  ? "Leave empty to keep the saved value (enter it again if you change where it is sent)."
                  : f.kind === "secret"
                    ? `${f.hint ? `${f.hint} ` : ""}Stored encrypted; never shown again.`
                    : undefined;
              return (
                <Field
                  key={`${values.provider}-${f.name}`}
                  id={id}
                  label={f.required ? f.label : `${f.label} (optional)`}
                  type={f.kind === "secret" ? "password" : "text"}
                  autoComplete={f.kind === "secret" ? "new-password" : "off"}
                  spellCheck={false}
                  value={config[f.name] ?? ""}
                  onChange={(e) => setConfig(f.name, e.target.value)}
                  placeholder={f.kind === "secret" && keepSecret ? "••••••••  (saved)" : f.placeholder}
                  hint={secretHint ?? f.hint}
                  error={err}
                />
              );
            })}
          </div>
        </fieldset>
      ) : null}

      <div className="field">
        <label htmlFor={`${idPrefix}-tls`}>TLS certificates</label>
        <select
          id={`${idPrefix}-tls`}
          value={values.tlsMode}
          onChange={(e) => onChange({ ...values, tlsMode: e.target.value as TlsMode })}
          aria-describedby={`${idPrefix}-tls-hint`}
          aria-invalid={errorOf("tlsMode") ? true : undefined}
        >
          {modes.map((m) => (
            <option key={m.value} value={m.value}>
              {m.label}
            </option>
          ))}
        </select>
        <p className="hint" id={`${idPrefix}-tls-hint`}>
          {mode?.hint}
          {!info.api ? " A wildcard certificate needs a DNS provider Hearth can drive." : ""}
        </p>
        {errorOf("tlsMode") ? <p className="field-error">{errorOf("tlsMode")}</p> : null}
      </div>

      {values.tlsMode === "custom" ? (
        <>
          <PemField
            id={`${idPrefix}-cert`}
            label="Certificate chain (PEM)"
            value={values.customCertificate}
            onChange={(v) => onChange({ ...values, customCertificate: v })}
            hint={
              hadCustom
                ? "Leave empty to keep the uploaded certificate. Leaf first, then intermediates."
                : `Leaf first, then intermediates. Must cover *.${values.domain.trim() || editing?.domain || "domain"}.`
            }
            placeholder="-----BEGIN CERTIFICATE-----"
            error={errorOf("customCertificate")}
          />
          <PemField
            id={`${idPrefix}-key`}
            label="Private key (PEM)"
            value={values.customKey}
            onChange={(v) => onChange({ ...values, customKey: v })}
            hint={hadCustom ? "Leave empty to keep the saved key. Stored encrypted; never shown again." : "Unencrypted. Stored encrypted; never shown again."}
            placeholder="-----BEGIN PRIVATE KEY-----"
            error={errorOf("customKey")}
          />
        </>
      ) : null}
    </>
  );
}
