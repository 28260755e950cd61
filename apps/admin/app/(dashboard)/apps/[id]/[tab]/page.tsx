import { notFound } from "next/navigation";
import { tabNamed } from "../tabs";

/** The body of `/apps/<id>/<tab>`, inside the app page's layout; an unknown tab is a 404. */
export default async function AppTabPage({ params }: { params: Promise<{ tab: string }> }) {
  const { tab } = await params;
  const found = tabNamed(tab);
  if (!found) notFound();
  return <found.Component />;
}
