import type { Metadata } from "next";
import { PageHeader } from "../../components/EmptyState";
import { ProfileCard } from "./ProfileCard";
import { TwoFactorCard } from "./TwoFactorCard";
import { PasswordCard } from "./PasswordCard";
import { TokensCard } from "./TokensCard";
import { MailRelayCard } from "./MailRelayCard";
import { RetentionCard } from "./RetentionCard";
import { NotificationsCard } from "./NotificationsCard";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" description="Your account, password, sessions, two-factor authentication, API tokens and (for admins) the server's mail relay and housekeeping." />
      <div className="stack">
        <ProfileCard />
        <PasswordCard />
        <TwoFactorCard />
        <TokensCard />
        <MailRelayCard />
        <NotificationsCard />
        <RetentionCard />
      </div>
    </>
  );
}
