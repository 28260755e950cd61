import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageState } from "../../lib/server/pages";
import { SetupForm } from "./SetupForm";
import { Brand } from "../components/Brand";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Set up" };

export default async function SetupPage() {
  const s = await pageState();
  if (s.setupDone) redirect("/login");
  return (
    <main className="auth-page">
      <div className="auth-card">
        <Brand />
        <ol className="setup-steps" aria-label="Setup steps">
          <li aria-current="step">Owner account</li>
          <li>Domain</li>
        </ol>
        <h1>Welcome to Hearth</h1>
        <p className="muted">Create the owner account with the setup code the installer printed. The owner can install apps, manage users and change every setting.</p>
        <SetupForm />
      </div>
    </main>
  );
}
