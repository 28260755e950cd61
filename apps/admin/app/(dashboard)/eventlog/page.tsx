import type { Metadata } from "next";
import { PageHeader } from "../../components/EmptyState";
import { EventLog } from "./EventLog";
import { AdminOnly } from "../../components/AdminOnly";

export const metadata: Metadata = { title: "Event log" };

export default function EventLogPage() {
  return (
    <AdminOnly title="Event log">
      <PageHeader title="Event log" description="Who did what, when and from where, and how each task ended: sign-ins, apps, domains, certificates and more." />
      <EventLog />
    </AdminOnly>
  );
}
