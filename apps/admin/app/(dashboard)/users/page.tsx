import type { Metadata } from "next";
import { EmptyState, PageHeader } from "../../components/EmptyState";
import { AdminOnly } from "../../components/AdminOnly";

export const metadata: Metadata = { title: "Users" };

export default function UsersPage() {
  return (
    <AdminOnly title="Users">
      <PageHeader title="Users" description="People who can sign in to this server and its apps." />
      <EmptyState icon="users" title="User management is coming">
        <p>Inviting users and managing groups arrives with user management.</p>
      </EmptyState>
    </AdminOnly>
  );
}
