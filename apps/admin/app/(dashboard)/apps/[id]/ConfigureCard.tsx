"use client";

import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { AppView, DomainView } from "@hearth/contracts";
import { api, ApiError } from "../../../../lib/client/api";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { MemoryField } from "../../../components/MemoryField";
import { LocationFields } from "../../../components/LocationFields";
import { EnvRows, envOf, rowsOf, type EnvRow } from "../../../components/EnvRows";
import { PortRows, portBindingsOf, portValuesOf, type PortSpec, type PortValues } from "../../../components/PortRows";
import { ExtraNameRows, extraNamesOf, type ExtraName } from "../../../components/ExtraNameRows";
import { useAppPage } from "./app-page";

const MiB = 1024 * 1024;

/** `POST …/configure` with only the fields of one tab (the API takes any non-empty subset). */
function useConfigure(app: AppView, onQueued: (taskId: string) => void) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Record<string, unknown>) => api<{ taskId: string }>(`/api/v1/apps/${encodeURIComponent(app.id)}/configure`, { method: "POST", body }),
    onSuccess: (r) => {
      onQueued(r.taskId);
      void qc.invalidateQueries({ queryKey: ["app", app.id] });
    },
  });
}

function SaveRow({ busy, pending }: { busy: boolean; pending: boolean }) {
  return (
    <div className="row">
      <button type="submit" className="btn btn-primary" disabled={busy || pending}>
        Save configuration
      </button>
      {busy ? <span className="muted small">Wait until the current operation is done.</span> : null}
    </div>
  );
}

/** Where the app answers: its subdomain and domain, aliases and redirects. */
export function LocationTab() {
  const { app, busy, onQueued } = useAppPage();
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains") });
  const [subdomain, setSubdomain] = useState(app.subdomain);
  const [domain, setDomain] = useState(app.domain);
  const [aliases, setAliases] = useState<ExtraName[]>(app.aliases.map(({ subdomain, domain }) => ({ subdomain, domain })));
  const [redirects, setRedirects] = useState<ExtraName[]>(app.redirects.map(({ subdomain, domain }) => ({ subdomain, domain })));
  const save = useConfigure(app, onQueued);
  const err = save.error instanceof ApiError ? save.error : null;
  const domainNames = (domains.data?.domains ?? [{ domain: app.domain }]).map((d) => d.domain);

  function submit(ev: FormEvent) {
    ev.preventDefault();
    save.mutate({ subdomain: subdomain.trim(), domain, aliases: extraNamesOf(aliases), redirects: extraNamesOf(redirects) });
  }

  return (
    <section className="card" aria-labelledby="location-heading">
      <h2 id="location-heading">Location</h2>
      <form className="form" onSubmit={submit}>
        <LocationFields idPrefix="configure" subdomain={subdomain} onSubdomain={setSubdomain} domain={domain} onDomain={setDomain} domains={domainNames} error={err?.fieldError("subdomain")} />
        <ExtraNameRows kind="aliases" rows={aliases} onChange={setAliases} domains={domainNames} idPrefix="configure-alias" error={err} />
        <ExtraNameRows kind="redirects" rows={redirects} onChange={setRedirects} domains={domainNames} idPrefix="configure-redirect" error={err} />
        <ErrorAlert error={save.error} fields={["subdomain", "aliases", "redirects"]} />
        <SaveRow busy={busy} pending={save.isPending} />
      </form>
    </section>
  );
}

/** What the app gets: its memory limit, published TCP ports and environment variables. */
export function ResourcesTab() {
  const { app, busy, onQueued } = useAppPage();
  const [memory, setMemory] = useState(String(Math.round(app.memoryLimit / MiB)));
  const [env, setEnv] = useState<EnvRow[]>(rowsOf(app.env));
  const portSpecs: Record<string, PortSpec> = app.tcpPorts;
  const [ports, setPorts] = useState<PortValues>(portValuesOf(portSpecs, app.portBindings));
  const save = useConfigure(app, onQueued);
  const err = save.error instanceof ApiError ? save.error : null;

  function submit(ev: FormEvent) {
    ev.preventDefault();
    save.mutate({ memoryLimit: Math.round(Number(memory) * MiB), env: envOf(env), ...(Object.keys(ports).length > 0 ? { portBindings: portBindingsOf(ports) } : {}) });
  }

  return (
    <section className="card" aria-labelledby="resources-heading">
      <h2 id="resources-heading">Resources</h2>
      <form className="form" onSubmit={submit}>
        <div className="field-narrow">
          <MemoryField id="configure-memory" value={memory} onChange={setMemory} error={err} />
        </div>
        <PortRows specs={portSpecs} values={ports} onChange={setPorts} idPrefix="configure-ports" error={err?.fieldError("portBindings")} />
        <EnvRows rows={env} onChange={setEnv} idPrefix="configure-env" />
        <ErrorAlert error={save.error} fields={["memoryLimit", "portBindings"]} />
        <SaveRow busy={busy} pending={save.isPending} />
      </form>
    </section>
  );
}
