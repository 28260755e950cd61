"use client";

export interface EnvRow {
  key: string;
  value: string;
}

export function envOf(rows: EnvRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key.trim()) out[r.key.trim()] = r.value;
  return out;
}

export function rowsOf(env: Record<string, string>): EnvRow[] {
  return Object.entries(env).map(([key, value]) => ({ key, value }));
}

/** Environment variable rows: name + value, add and remove. */
export function EnvRows({ rows, onChange, idPrefix }: { rows: EnvRow[]; onChange: (rows: EnvRow[]) => void; idPrefix: string }) {
  const set = (i: number, patch: Partial<EnvRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="env-rows">
      <legend>Environment variables</legend>
      {rows.length === 0 ? <p className="muted small">None.</p> : null}
      {rows.map((r, i) => (
        <div key={i} className="env-row">
          <div className="field">
            <label htmlFor={`${idPrefix}-key-${i}`}>Variable {i + 1} name</label>
            <input id={`${idPrefix}-key-${i}`} value={r.key} onChange={(e) => set(i, { key: e.target.value })} placeholder="NAME" spellCheck={false} />
          </div>
          <div className="field">
            <label htmlFor={`${idPrefix}-value-${i}`}>Variable {i + 1} value</label>
            <input id={`${idPrefix}-value-${i}`} value={r.value} onChange={(e) => set(i, { value: e.target.value })} spellCheck={false} />
          </div>
          <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`Remove variable ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-sm" onClick={() => onChange([...rows, { key: "", value: "" }])}>
        Add variable
      </button>
    </fieldset>
  );
}
