import type { Metadata } from "next";
import { PageHeader } from "../../components/EmptyState";
import { ProfileCard } from "./ProfileCard";
import { TwoFactorCard } from "./TwoFactorCard";
import { TokensCard } from "./TokensCard";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="Your account, two-factor authentication and API tokens." />
      <div className="stack">
        <ProfileCard />
        <TwoFactorCard />
        <TokensCard />
      </div>
    </>
  );
}
