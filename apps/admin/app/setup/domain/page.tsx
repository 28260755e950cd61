import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { requireUser } from "../../../lib/server/pages";
import { Brand } from "../../components/Brand";
import { DomainStep } from "./DomainStep";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Set up: domain" };

/**
 * First run, step 2 (after the owner account): the domain that serves the dashboard at
 * my.<domain> and the apps under it, with the certificate authority's email. Skippable.
 */
export default async function SetupDomainPage() {
  const profile = await requireUser();
  if (profile.role !== "owner" && profile.role !== "admin") redirect("/apps");
  return (
    <main className="auth-page">
      <div className="auth-card auth-card-wide">
        <Brand />
        <ol className="setup-steps" aria-label="Setup steps">
          <li className="done">Owner account</li>
          <li aria-current="step">Domain</li>
        </ol>
        <DomainStep ownerEmail={profile.email} />
      </div>
    </main>
  );
}
