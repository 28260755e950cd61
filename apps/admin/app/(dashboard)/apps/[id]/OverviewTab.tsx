"use client";

import { Markdown } from "../../../components/Markdown";
import { useAppPage } from "./app-page";
import styles from "./OverviewTab.module.css";
import { CredentialsBox } from "./CredentialsBox";
import { AppGraphs } from "./AppGraphs";

const MiB = 1024 * 1024;

/** The app at a glance: where it answers, its state, and the ready card (login instructions, first admin account). */
export function OverviewTab() {
  const { app: a, justInstalled } = useAppPage();
  const showPostInstall = (a.postInstallMessage !== "" || !!a.firstAdmin) && a.installState === "installed" && justInstalled;
  const firstAdmin = a.firstAdmin ? { ...a, firstAdmin: a.firstAdmin } : null;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="overview-heading">
        <h2 id="overview-heading" className="sr-only">
          Overview
        </h2>
        <dl className="props">
          <div>
            <dt>Address</dt>
            <dd>
              <a href={a.url} target="_blank" rel="noopener noreferrer">
                {a.url}
              </a>
            </dd>
          </div>
          {a.aliases.length > 0 ? (
            <div>
              <dt>Also at</dt>
              <dd className="cell-stack">
                {a.aliases.map((x) => (
                  <a key={x.fqdn} href={`https://${x.fqdn}/`} target="_blank" rel="noopener noreferrer">
                    {x.fqdn}
                  </a>
                ))}
              </dd>
            </div>
          ) : null}
          {a.redirects.length > 0 ? (
            <div>
              <dt>Redirected from</dt>
              <dd className="cell-stack">
                {a.redirects.map((x) => (
                  <span key={x.fqdn}>{x.fqdn}</span>
                ))}
              </dd>
            </div>
          ) : null}
          <div>
            <dt>Version</dt>
            <dd>{a.version}</dd>
          </div>
          <div>
            <dt>Memory limit</dt>
            <dd>{Math.round(a.memoryLimit / MiB)} MiB</dd>
          </div>
        </dl>
      </section>

      {showPostInstall ? (
        <section className={`card ${styles.ready}`} id="getting-started" aria-labelledby="postinstall-heading">
          <h2 id="postinstall-heading">{a.title} is ready</h2>
          <Markdown text={a.postInstallMessage} />
          {firstAdmin ? <CredentialsBox app={firstAdmin} /> : null}
        </section>
      ) : a.postInstallMessage !== "" || firstAdmin ? (
        // the ready card, any time: login instructions and the first admin account
        <section className="card" id="getting-started" aria-labelledby="getting-started-heading">
          <details className="more" open={firstAdmin?.firstAdmin.kept === true}>
            <summary>
              <h2 id="getting-started-heading" className="inline-heading">
                Getting started
              </h2>
            </summary>
            <div className="more-body">
              {a.postInstallMessage !== "" ? <Markdown text={a.postInstallMessage} /> : null}
              {firstAdmin ? <CredentialsBox app={firstAdmin} /> : null}
            </div>
          </details>
        </section>
      ) : null}
      {a.installState === "installed" ? <AppGraphs appId={a.id} running={a.runState === "running"} /> : null}
    </div>
  );
}
