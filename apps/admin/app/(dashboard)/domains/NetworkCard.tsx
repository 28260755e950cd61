"use client";

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError } from "../../../lib/client/api";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Field } from "../../components/Field";

interface NetworkView {
  ipv4: string | null;
  ipv6: string | null;
  detected: { ipv4: string | null; ipv6: string | null };
}

/**
 * The addresses app records point at (settings/network): detected from the interfaces, or set
 * by the admin (behind NAT the detected one is private). Saving a change re-points the records
 * of every domain whose provider Hearth drives (one domain.sync task each).
 */
export function NetworkCard({ onQueued }: { onQueued: (taskIds: string[]) => void }) {
  const qc = useQueryClient();
  const network = useQuery({ queryKey: ["network"], queryFn: () => api<NetworkView>("/api/v1/settings/network") });
  const [ipv4, setIpv4] = useState("");
  const [ipv6, setIpv6] = useState("");
  const [saved, setSaved] = useState<string | null>(null);
  const n = network.data;
  useEffect(() => {
    if (!n) return;
    setIpv4(n.ipv4 ?? "");
    setIpv6(n.ipv6 ?? "");
  }, [n]);

  const save = useMutation({
    mutationFn: () => api<NetworkView & { taskIds: string[] }>("/api/v1/settings/network", { method: "PUT", body: { ipv4: ipv4.trim() || null, ipv6: ipv6.trim() || null } }),
    onSuccess: (r) => {
      setSaved(r.taskIds.length > 0 ? `Saved. Updating the records of ${r.taskIds.length} domain${r.taskIds.length === 1 ? "" : "s"}.` : "Saved.");
      qc.setQueryData(["network"], r);
      onQueued(r.taskIds);
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  const usingSet = n !== undefined && (n.ipv4 !== null || n.ipv6 !== null);

  function submit(ev: FormEvent) {
    ev.preventDefault();
    setSaved(null);
    save.mutate();
  }

  return (
    <section className="card" aria-labelledby="network-heading">
      <h2 id="network-heading">Server address</h2>
      <p className="muted">Where app records point. Leave both empty to use what this server detects; if you set one, only the addresses set here are used.</p>
      <ErrorAlert error={network.error} />
      {n ? (
        <form className="form" onSubmit={submit} noValidate>
          <dl className="props">
            <div>
              <dt>Detected IPv4</dt>
              <dd className="mono">{n.detected.ipv4 ?? "none"}</dd>
            </div>
            <div>
              <dt>Detected IPv6</dt>
              <dd className="mono">{n.detected.ipv6 ?? "none"}</dd>
            </div>
            <div>
              <dt>Records use</dt>
              <dd>{usingSet ? "The addresses set below" : "The detected addresses"}</dd>
            </div>
          </dl>
          <div className="inline-fields">
            <Field
              id="network-ipv4"
              label="IPv4 address"
              value={ipv4}
              onChange={(e) => setIpv4(e.target.value)}
              placeholder={n.detected.ipv4 ?? "203.0.113.10"}
              spellCheck={false}
              error={err?.fieldError("ipv4")}
            />
            <Field
              id="network-ipv6"
              label="IPv6 address"
              value={ipv6}
              onChange={(e) => setIpv6(e.target.value)}
              placeholder={n.detected.ipv6 ?? "2001:db8::10"}
              spellCheck={false}
              error={err?.fieldError("ipv6")}
            />
            <div className="field field-submit">
              <button type="submit" className="btn" disabled={save.isPending}>
                {save.isPending ? "Saving…" : "Save address"}
              </button>
            </div>
          </div>
          <ErrorAlert error={save.error} fields={["ipv4", "ipv6"]} />
          {saved ? (
            <p className="alert alert-info" role="status">
              {saved}
            </p>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}
