import type { Metadata } from "next";
import { AdminOnly } from "../../components/AdminOnly";
import { Registries } from "./Registries";

export const metadata: Metadata = { title: "Registries" };

export default function RegistriesPage() {
  return (
    <AdminOnly title="Registries">
      <Registries />
    </AdminOnly>
  );
}
