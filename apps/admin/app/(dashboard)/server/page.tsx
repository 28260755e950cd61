import type { Metadata } from "next";
import { AdminOnly } from "../../components/AdminOnly";
import { PageHeader } from "../../components/EmptyState";
import { ServerOverview } from "./ServerOverview";

export const metadata: Metadata = { title: "Server" };

export default function ServerPage() {
  return (
    <AdminOnly title="Server">
      <PageHeader title="Server" description="How the server is doing: CPU, memory, disks and network, and the space left on each volume." />
      <ServerOverview />
    </AdminOnly>
  );
}
