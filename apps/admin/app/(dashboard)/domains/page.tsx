import type { Metadata } from "next";
import { AdminOnly } from "../../components/AdminOnly";
import { Domains } from "./Domains";

export const metadata: Metadata = { title: "Domains" };

export default function DomainsPage() {
  return (
    <AdminOnly title="Domains">
      <Domains />
    </AdminOnly>
  );
}
