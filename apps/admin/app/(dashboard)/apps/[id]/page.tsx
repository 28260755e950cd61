import { redirect } from "next/navigation";

/** `/apps/<id>` is the overview; the query (`?installed=1&task=…` from the install dialog) goes along. */
export default async function AppPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { id } = await params;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(await searchParams)) for (const x of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, x);
  const qs = q.toString();
  redirect(`/apps/${encodeURIComponent(id)}/overview${qs ? `?${qs}` : ""}`);
}
