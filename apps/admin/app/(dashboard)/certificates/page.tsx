import type { Metadata } from "next";
import { AdminOnly } from "../../components/AdminOnly";
import { Certificates } from "./Certificates";

export const metadata: Metadata = { title: "Certificates" };

export default function CertificatesPage() {
  return (
    <AdminOnly title="Certificates">
      <Certificates />
    </AdminOnly>
  );
}
