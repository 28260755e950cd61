import Link from "next/link";
import { Brand } from "./components/Brand";

export default function NotFound() {
  return (
    <main className="auth-page">
      <div className="auth-card">
        <Brand />
        <h1>Page not found</h1>
        <p className="muted">There is nothing at this address.</p>
        <p>
          <Link href="/">Go to the dashboard</Link>
        </p>
      </div>
    </main>
  );
}
