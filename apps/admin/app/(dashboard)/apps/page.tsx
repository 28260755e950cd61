import type { Metadata } from "next";
import { EmptyState, PageHeader } from "../../components/EmptyState";

export const metadata: Metadata = { title: "Apps" };

export default function AppsPage() {
  return (
    <>
      <PageHeader title="Apps" description="Web apps running on this server, each on its own subdomain." />
      <EmptyState icon="apps" title="Nothing installed">
        <p>No apps yet — installing apps arrives with the app catalog.</p>
      </EmptyState>
    </>
  );
}
