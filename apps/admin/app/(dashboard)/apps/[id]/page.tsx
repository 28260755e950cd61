import type { Metadata } from "next";
import { AdminOnly } from "../../../components/AdminOnly";
import { AppDetail } from "./AppDetail";

export const metadata: Metadata = { title: "App" };

export default async function AppPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return (
    <AdminOnly title="App">
      <AppDetail id={id} />
    </AdminOnly>
  );
}
