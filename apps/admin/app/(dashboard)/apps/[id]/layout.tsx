import type { Metadata } from "next";
import type { ReactNode } from "react";
import { AdminOnly } from "../../../components/AdminOnly";
import { AppDetail } from "./AppDetail";

export const metadata: Metadata = { title: "App" };

/** The app page: its header, tabs and task progress stay while the tab body (`[tab]/page.tsx`) changes. */
export default async function AppLayout({ params, children }: { params: Promise<{ id: string }>; children: ReactNode }) {
  const { id } = await params;
  return (
    <AdminOnly title="App">
      <AppDetail id={id}>{children}</AppDetail>
    </AdminOnly>
  );
}
