import type { Metadata } from "next";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { AdminOnly } from "../../components/AdminOnly";

export const metadata: Metadata = { title: "Backups" };

export default function BackupsPage() {
  return (
    <AdminOnly title="Backups">
      <PageHeader title="Backups" description="Encrypted backups of your apps and of the server's settings." />
      <EmptyState icon="archive" title="Nothing backed up">
        <p>No backups yet — scheduled, encrypted backups arrive with the backup system.</p>
      </EmptyState>
    </AdminOnly>
  );
}
