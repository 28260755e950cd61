import type { Metadata } from "next";
import { PageHeader } from "../../components/EmptyState";
import { AdminOnly } from "../../components/AdminOnly";
import { AppBackups } from "./AppBackups";
import { BackupSiteCard } from "./BackupSiteCard";

export const metadata: Metadata = { title: "Backups" };

export default function BackupsPage() {
  return (
    <AdminOnly title="Backups">
      <PageHeader title="Backups" description="Encrypted, deduplicated backups of your apps (restic), checked by reading them back." />
      <BackupSiteCard />
      <AppBackups />
    </AdminOnly>
  );
}
