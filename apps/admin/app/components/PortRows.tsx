"use client";

export interface PortSpec {
  title: string;
  description?: string;
  containerPort: number;
  defaultValue: number;
}

export type PortValues = Record<string, { enabled: boolean; hostPort: string }>;

export function portValuesOf(specs: Record<string, PortSpec>, bindings: Record<string, number | null> = {}): PortValues {
  const out: PortValues = {};
  for (const [env, spec] of Object.entries(specs)) {
    const bound = bindings[env];
    out[env] = { enabled: bound !== undefined && bound !== null, hostPort: String(bound ?? spec.defaultValue) };
  }
  return out;
}

export function portBindingsOf(values: PortValues): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [env, v] of Object.entries(values)) out[env] = v.enabled ? Number(v.hostPort) : null;
  return out;
}

/** The manifest's TCP ports: publish each on a host port, or not. */
export function PortRows({ specs, values, onChange, idPrefix, error }: { specs: Record<string, PortSpec>; values: PortValues; onChange: (v: PortValues) => void; idPrefix: string; error?: string }) {
  const entries = Object.entries(specs);
  if (entries.length === 0) return null;
  const set = (env: string, patch: Partial<PortValues[string]>) => onChange({ ...values, [env]: { ...values[env]!, ...patch } });
  return (
    <fieldset className="env-rows">
      <legend>TCP ports</legend>
      {entries.map(([env, spec], i) => {
        const v = values[env] ?? { enabled: false, hostPort: String(spec.defaultValue) };
        return (
          <div key={env} className="env-row port-row">
            <label className="check" htmlFor={`${idPrefix}-on-${i}`}>
              <input id={`${idPrefix}-on-${i}`} type="checkbox" checked={v.enabled} onChange={(e) => set(env, { enabled: e.target.checked })} />
              <span>
                Publish {spec.title}
                {spec.containerPort > 0 ? <span className="muted small"> (container port {spec.containerPort})</span> : null}
              </span>
            </label>
            <div className="field">
              <label htmlFor={`${idPrefix}-port-${i}`}>Host port for {spec.title}</label>
              <input id={`${idPrefix}-port-${i}`} type="number" min={1024} max={65535} value={v.hostPort} disabled={!v.enabled} onChange={(e) => set(env, { hostPort: e.target.value })} />
            </div>
          </div>
        );
      })}
      {error ? <p className="field-error">{error}</p> : null}
    </fieldset>
  );
}
