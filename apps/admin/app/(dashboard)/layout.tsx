import type { ReactNode } from "react";
import { requireUser } from "../../lib/server/pages";
import { Shell } from "./Shell";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const profile = await requireUser();
  return <Shell profile={profile}>{children}</Shell>;
}
