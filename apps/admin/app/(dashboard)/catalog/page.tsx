import type { Metadata } from "next";
import { AdminOnly } from "../../components/AdminOnly";
import { Catalog } from "./Catalog";

export const metadata: Metadata = { title: "Catalog" };

export default function CatalogPage() {
  return (
    <AdminOnly title="Catalog">
      <Catalog />
    </AdminOnly>
  );
}
