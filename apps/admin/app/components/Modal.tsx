"use client";

import * as Dialog from "@radix-ui/react-dialog";
import { useRef, type ReactNode } from "react";
import styles from "./Modal.module.css";

/**
 * A modal dialog, open while `open` is true, on Radix's Dialog
 * (https://www.radix-ui.com/primitives/docs/components/dialog): focus moves into it and is
 * trapped there (Tab and Shift+Tab cycle inside), the rest of the page is hidden from
 * assistive technology and does not scroll, Esc or a click outside closes it and calls
 * `onClose`, and focus returns to the element that opened it. `labelledBy` is the id of the
 * heading inside `children` that names it.
 */
export function Modal({ open, onClose, labelledBy, wide, children }: { open: boolean; onClose: () => void; labelledBy: string; wide?: boolean; children: ReactNode }) {
  // Radix gives focus back to a Dialog.Trigger; ours are opened by state, so remember what had
  // focus when `open` turned true (before Radix moves it inside) and return it there
  const opener = useRef<HTMLElement | null>(null);
  const wasOpen = useRef(false);
  if (open && !wasOpen.current && typeof document !== "undefined") opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  wasOpen.current = open;
  return (
    <Dialog.Root
      open={open}
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
    >
      <Dialog.Portal>
        <Dialog.Overlay className={styles.overlay} />
        <Dialog.Content
          className={`${styles.content} dialog${wide ? " dialog-wide" : ""}`}
          aria-labelledby={labelledBy}
          aria-describedby={undefined}
          onCloseAutoFocus={(e) => {
            if (opener.current?.isConnected) {
              e.preventDefault();
              opener.current.focus();
            }
          }}
        >
          {children}
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
