import type { Metadata } from "next";
import { Catalog } from "./Catalog";

export const metadata: Metadata = { title: "Catalog" };

export default function CatalogPage() {
  return <Catalog />;
}
