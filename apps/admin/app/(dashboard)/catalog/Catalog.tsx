"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { CatalogAppView, DomainView } from "@hearth/contracts";
import { api, ApiError, errorText } from "../../../lib/client/api";
import { PageHeader } from "../../components/EmptyState";
import { Field } from "../../components/Field";
import { AppIcon } from "../../components/AppBadges";
import { EnvRows, envOf, type EnvRow } from "../../components/EnvRows";
import { PortRows, portBindingsOf, portValuesOf, type PortValues } from "../../components/PortRows";

const MiB = 1024 * 1024;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function Catalog() {
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState("");
  const q = useDebounced(search.trim(), 200);
  const params = new URLSearchParams();
  if (q) params.set("search", q);
  if (tag) params.set("tag", tag);
  const catalog = useQuery({
    queryKey: ["appstore", q, tag],
    queryFn: () => api<{ apps: CatalogAppView[]; tags: string[] }>(`/api/v1/appstore${params.size ? `?${params}` : ""}`),
    placeholderData: (prev) => prev,
  });
  const [installing, setInstalling] = useState<CatalogAppView | null>(null);

  return (
    <>
      <PageHeader title="Catalog" description="Apps ready to install on this server." />
      <div className="catalog-toolbar" aria-hidden={installing ? true : undefined}>
        <div className="field field-inline">
          <label htmlFor="catalog-search">Search apps</label>
          <input id="catalog-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Name, purpose or tag" />
        </div>
        <div className="field">
          <label htmlFor="catalog-tag">Tag</label>
          <select id="catalog-tag" value={tag} onChange={(e) => setTag(e.target.value)}>
            <option value="">All tags</option>
            {(catalog.data?.tags ?? []).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      {catalog.isPending ? <p className="muted">Loading the catalog…</p> : null}
      {catalog.error ? (
        <div className="alert alert-error" role="alert">
          {errorText(catalog.error)}
        </div>
      ) : null}
      {catalog.data && catalog.data.apps.length === 0 ? <p className="muted empty-line">No apps match.</p> : null}
      {catalog.data && catalog.data.apps.length > 0 ? (
        <ul className="app-grid" aria-label="Catalog apps" aria-hidden={installing ? true : undefined}>
          {catalog.data.apps.map((a) => (
            <li key={a.id} className="card app-card catalog-card">
              <div className="app-card-head">
                <AppIcon app={{ icon: a.iconUrl, title: a.title }} />
                <div className="app-card-title">
                  <h2 className="app-title" id={`cat-${a.id}`}>
                    {a.title}
                  </h2>
                  <span className="muted small">Version {a.version}</span>
                </div>
              </div>
              <p className="tagline">{a.tagline}</p>
              {a.tags.length > 0 ? (
                <p className="tags">
                  {a.tags.map((t) => (
                    <span key={t} className="badge">
                      {t}
                    </span>
                  ))}
                </p>
              ) : null}
              <div className="catalog-card-actions">
                <button type="button" className="btn btn-primary" aria-describedby={`cat-${a.id}`} onClick={() => setInstalling(a)}>
                  Install
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      <InstallDialog app={installing} onClose={() => setInstalling(null)} />
    </>
  );
}

function InstallDialog({ app, onClose }: { app: CatalogAppView | null; onClose: () => void }) {
  const router = useRouter();
  const dialog = useRef<HTMLDialogElement>(null);
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains"), enabled: app !== null });
  const [subdomain, setSubdomain] = useState("");
  const [domain, setDomain] = useState("");
  const [memory, setMemory] = useState("");
  const [env, setEnv] = useState<EnvRow[]>([]);
  const [ports, setPorts] = useState<PortValues>({});

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (app && !d.open) {
      setSubdomain(app.title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "app");
      setMemory(String(Math.round(app.memoryLimit / MiB)));
      setEnv([]);
      setPorts(portValuesOf(app.tcpPorts));
      install.reset();
      d.showModal();
    }
    if (!app && d.open) d.close();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [app]);

  useEffect(() => {
    if (!domain && domains.data?.domains[0]) setDomain(domains.data.domains[0].domain);
  }, [domains.data, domain]);

  const install = useMutation({
    mutationFn: () =>
      api<{ id: string; taskId: string }>("/api/v1/apps", {
        method: "POST",
        body: { storeId: app!.id, version: app!.version, subdomain: subdomain.trim(), domain, memoryLimit: Math.round(Number(memory) * MiB), env: envOf(env), portBindings: portBindingsOf(ports) },
      }),
    onSuccess: (r) => router.push(`/apps/${r.id}?installed=1&task=${encodeURIComponent(r.taskId)}`),
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    install.mutate();
  }

  const err = install.error instanceof ApiError ? install.error : null;
  const noDomains = domains.data && domains.data.domains.length === 0;
  const memErr = err?.fieldError("memoryLimit") ? "Between 32 MiB and 64 GiB" : undefined;

  return (
    <dialog ref={dialog} className="dialog dialog-wide" aria-labelledby="install-title" onClose={onClose}>
      {app ? (
        <form className="form" onSubmit={submit}>
          <div className="row">
            <AppIcon app={{ icon: app.iconUrl, title: app.title }} size={40} />
            <h2 id="install-title">Install {app.title}</h2>
          </div>
          {noDomains ? (
            <div className="alert alert-warn" role="alert">
              Add a domain first on the <Link href="/domains">Domains</Link> page.
            </div>
          ) : null}
          <div className="location-row">
            <Field id="install-subdomain" label="Subdomain" value={subdomain} onChange={(e) => setSubdomain(e.target.value)} error={err?.fieldError("subdomain")} hint="Leave empty to use the domain itself" />
            <span className="location-dot" aria-hidden="true">
              .
            </span>
            <div className="field">
              <label htmlFor="install-domain">Domain</label>
              <select id="install-domain" value={domain} onChange={(e) => setDomain(e.target.value)} required>
                {(domains.data?.domains ?? []).map((d) => (
                  <option key={d.domain} value={d.domain}>
                    {d.domain}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div className="field-narrow">
            <Field id="install-memory" label="Memory limit (MiB)" type="number" min={32} max={65536} step={1} required value={memory} onChange={(e) => setMemory(e.target.value)} error={memErr} />
          </div>
          <PortRows specs={app.tcpPorts} values={ports} onChange={setPorts} idPrefix="install-ports" error={err?.fieldError("portBindings")} />
          <EnvRows rows={env} onChange={setEnv} idPrefix="install-env" />
          {install.error && !(err?.code === "invalid" && (err.fieldError("subdomain") || memErr)) ? (
            <div className="alert alert-error" role="alert">
              {errorText(install.error)}
            </div>
          ) : null}
          <div className="row row-end">
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={install.isPending || !domain}>
              {install.isPending ? "Installing…" : "Install"}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}
