"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import type { CatalogAppView, DomainView } from "@hearth/contracts";
import { api, ApiError } from "../../../lib/client/api";
import { Modal } from "../../components/ConfirmDialog";
import { ErrorAlert } from "../../components/ErrorAlert";
import { PageHeader } from "../../components/EmptyState";
import { MemoryField } from "../../components/MemoryField";
import { LocationFields } from "../../components/LocationFields";
import { AppIcon } from "../../components/AppBadges";
import { EnvRows, envOf, type EnvRow } from "../../components/EnvRows";
import { PortRows, portBindingsOf, portValuesOf, type PortValues } from "../../components/PortRows";
import { ExtraNameRows, extraNamesOf, type ExtraName } from "../../components/ExtraNameRows";

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
    queryFn: () => api<{ apps: CatalogAppView[]; tags: string[]; problems?: { dir: string; message: string; kept: string | null }[] }>(`/api/v1/appstore${params.size ? `?${params}` : ""}`),
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
      <ErrorAlert error={catalog.error} />
      {catalog.data?.problems?.length ? (
        <div className="alert alert-warn" role="alert">
          <p>Some catalog packages have a manifest that cannot be used:</p>
          <ul>
            {catalog.data.problems.map((p) => (
              <li key={p.dir}>
                <code>{p.message}</code> {p.kept ? `(version ${p.kept} from its last good manifest is still offered)` : "(not offered)"}
              </li>
            ))}
          </ul>
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
  const domains = useQuery({ queryKey: ["domains"], queryFn: () => api<{ domains: DomainView[] }>("/api/v1/domains"), enabled: app !== null });
  const [subdomain, setSubdomain] = useState("");
  const [domain, setDomain] = useState("");
  const [memory, setMemory] = useState("");
  const [env, setEnv] = useState<EnvRow[]>([]);
  const [ports, setPorts] = useState<PortValues>({});
  const [aliases, setAliases] = useState<ExtraName[]>([]);
  const [redirects, setRedirects] = useState<ExtraName[]>([]);
  const [more, setMore] = useState(false);

  // a fresh form (and no old error) each time the dialog opens for an app
  useEffect(() => {
    if (!app) return;
    setSubdomain(
      app.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 40) || "app",
    );
    setMemory(String(Math.round(app.memoryLimit / MiB)));
    setEnv([]);
    setPorts(portValuesOf(app.tcpPorts));
    setAliases([]);
    setRedirects([]);
    setMore(false);
    install.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [app]);

  useEffect(() => {
    if (!domain && domains.data?.domains[0]) setDomain(domains.data.domains[0].domain);
  }, [domains.data, domain]);

  const install = useMutation({
    mutationFn: () =>
      api<{ id: string; taskId: string }>("/api/v1/apps", {
        method: "POST",
        body: {
          storeId: app!.id,
          version: app!.version,
          subdomain: subdomain.trim(),
          domain,
          aliases: extraNamesOf(aliases),
          redirects: extraNamesOf(redirects),
          memoryLimit: Math.round(Number(memory) * MiB),
          env: envOf(env),
          portBindings: portBindingsOf(ports),
        },
      }),
    onSuccess: (r) => router.push(`/apps/${r.id}?installed=1&task=${encodeURIComponent(r.taskId)}`),
  });

  function submit(ev: FormEvent) {
    ev.preventDefault();
    install.mutate();
  }

  const err = install.error instanceof ApiError ? install.error : null;
  const noDomains = domains.data && domains.data.domains.length === 0;
  const domainNames = (domains.data?.domains ?? []).map((d) => d.domain);
  const extraCount = aliases.length + redirects.length;
  // an error about an alias or a redirect must not hide in a folded section
  const extraError = err !== null && (err.errorAt(["aliases"]) !== undefined || err.errorAt(["redirects"]) !== undefined);
  useEffect(() => {
    if (extraError) setMore(true);
  }, [extraError]);

  return (
    <Modal open={app !== null} onClose={onClose} labelledBy="install-title" wide>
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
          <LocationFields
            idPrefix="install"
            subdomain={subdomain}
            onSubdomain={setSubdomain}
            domain={domain}
            onDomain={setDomain}
            domains={domainNames}
            error={err?.fieldError("subdomain")}
            hint="Leave empty to use the domain itself"
          />
          <details className="more" open={more} onToggle={(e) => setMore(e.currentTarget.open)}>
            <summary>More addresses{extraCount > 0 ? ` (${extraCount})` : ""}: aliases and redirects</summary>
            <div className="form more-body">
              <ExtraNameRows kind="aliases" rows={aliases} onChange={setAliases} domains={domainNames} idPrefix="install-alias" error={err} />
              <ExtraNameRows kind="redirects" rows={redirects} onChange={setRedirects} domains={domainNames} idPrefix="install-redirect" error={err} />
            </div>
          </details>
          <div className="field-narrow">
            <MemoryField id="install-memory" value={memory} onChange={setMemory} error={err} />
          </div>
          <PortRows specs={app.tcpPorts} values={ports} onChange={setPorts} idPrefix="install-ports" error={err?.fieldError("portBindings")} />
          <EnvRows rows={env} onChange={setEnv} idPrefix="install-env" />
          <ErrorAlert error={install.error} fields={["subdomain", "memoryLimit", "portBindings", "aliases", "redirects"]} />
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
    </Modal>
  );
}
