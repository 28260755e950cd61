import type { Metadata } from "next";
import { EmptyState, PageHeader } from "../../components/EmptyState";

export const metadata: Metadata = { title: "Domains" };

export default function DomainsPage() {
  return (
    <>
      <PageHeader title="Domains" description="Domains your apps are served from, with their certificates." />
      <EmptyState icon="globe" title="No domains added">
        <p>No domains yet — adding domains arrives with DNS and certificate management.</p>
      </EmptyState>
    </>
  );
}
