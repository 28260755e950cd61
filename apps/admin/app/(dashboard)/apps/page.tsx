import type { Metadata } from "next";
import { AppsGrid } from "./AppsGrid";

export const metadata: Metadata = { title: "Apps" };

export default function AppsPage() {
  return <AppsGrid />;
}
