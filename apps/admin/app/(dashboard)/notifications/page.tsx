import type { Metadata } from "next";
import { PageHeader } from "../../components/EmptyState";
import { AdminOnly } from "../../components/AdminOnly";
import { NotificationsPage } from "./NotificationsPage";

export const metadata: Metadata = { title: "Notifications" };

export default function Page() {
  return (
    <AdminOnly title="Notifications">
      <PageHeader title="Notifications" description="What needs attention, grouped by cause. Hearth closes a notification by itself when its cause goes away." />
      <NotificationsPage />
    </AdminOnly>
  );
}
