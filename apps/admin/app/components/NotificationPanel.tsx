"use client";

import Link from "next/link";
import * as Popover from "@radix-ui/react-popover";
import { useRef, type RefObject } from "react";
import type { NotificationView } from "@hearth/contracts";
import { NotificationList, useMarkRead } from "./NotificationList";
import styles from "./Notifications.module.css";

/**
 * The bell's panel on Radix Popover (https://www.radix-ui.com/primitives/docs/components/popover),
 * in its own chunk: loaded the first time the bell is pressed (NotificationBar). Non-modal,
 * placed below the bell (its anchor); the panel takes focus when it opens; Escape closes it and
 * gives focus back to the bell, a click outside closes it and leaves focus where it went.
 */
export default function NotificationPanel({
  id,
  titleId,
  bell,
  unread,
  notifications,
  onClose,
}: {
  id: string;
  titleId: string;
  bell: RefObject<HTMLButtonElement | null>;
  unread: number;
  notifications: NotificationView[] | undefined;
  onClose: () => void;
}) {
  const { all } = useMarkRead();
  const panel = useRef<HTMLDivElement>(null);
  const outside = useRef(false);
  return (
    <Popover.Root
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
    >
      <Popover.Anchor virtualRef={bell as RefObject<HTMLButtonElement>} />
      <Popover.Content
        ref={panel}
        id={id}
        className={styles.panel}
        aria-labelledby={titleId}
        align="end"
        sideOffset={8}
        onOpenAutoFocus={(e) => {
          e.preventDefault();
          panel.current?.focus();
        }}
        onInteractOutside={(e) => {
          // the bell toggles the panel itself
          if (bell.current?.contains(e.target as Node)) e.preventDefault();
          else outside.current = true;
        }}
        // the panel unmounts as it closes: give the bell focus now, before it goes
        onEscapeKeyDown={() => bell.current?.focus()}
        onCloseAutoFocus={(e) => {
          e.preventDefault();
          if (!outside.current) bell.current?.focus();
        }}
      >
        <div className={styles.panelHead}>
          <h2 id={titleId} className={styles.panelTitle}>
            Notifications
          </h2>
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => all.mutate()} disabled={unread === 0 || all.isPending}>
            Mark all read
          </button>
        </div>
        <div className={styles.panelBody}>{notifications ? <NotificationList notifications={notifications} compact /> : <p className={styles.empty}>Loading…</p>}</div>
        <div className={styles.panelFoot}>
          <Link href="/notifications" onClick={onClose}>
            All notifications, open and resolved
          </Link>
        </div>
      </Popover.Content>
    </Popover.Root>
  );
}
