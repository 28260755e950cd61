import type { Metadata } from "next";
import { Domains } from "./Domains";

export const metadata: Metadata = { title: "Domains" };

export default function DomainsPage() {
  return <Domains />;
}
