import { AppTabBody } from "../tabs";

export default async function AppTabPage({ params }: { params: Promise<{ id: string; tab: string }> }) {
  const { tab } = await params;
  return <AppTabBody tab={tab} />;
}
