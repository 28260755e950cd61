import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { pageState } from "../../lib/server/pages";
import { LoginForm } from "./LoginForm";
import { Brand } from "../components/Brand";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage() {
  const s = await pageState();
  if (!s.setupDone) redirect("/setup");
  if (s.profile) redirect("/apps");
  return (
    <main className="auth-page">
      <div className="auth-card">
        <Brand />
        <h1>Sign in</h1>
        <p className="muted">Sign in to manage your server.</p>
        <LoginForm />
      </div>
    </main>
  );
}
