"use client";

import Link from "next/link";
import { useSelectedLayoutSegment } from "next/navigation";
import type { AppTab } from "./tabs";
import styles from "./AppTabsNav.module.css";

/** The app page's tabs: links with their own URLs (deep-linkable, reload keeps the tab), the open one `aria-current="page"`. */
export function AppTabsNav({ appId, tabs }: { appId: string; tabs: readonly Pick<AppTab, "slug" | "label">[] }) {
  const current = useSelectedLayoutSegment() ?? tabs[0]?.slug;
  return (
    <nav className={styles.tabs} aria-label="App sections">
      <ul>
        {tabs.map((t) => (
          <li key={t.slug}>
            <Link href={`/apps/${encodeURIComponent(appId)}/${t.slug}`} aria-current={t.slug === current ? "page" : undefined} className={styles.tab}>
              {t.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
