"use client";

import * as Dialog from "@radix-ui/react-dialog";
import type { ReactNode, RefObject } from "react";
import styles from "./Modal.module.css";

/** Radix's Dialog for `Modal` (see there), in its own chunk: loaded the first time a dialog opens. */
export default function RadixModal({
  open,
  onClose,
  labelledBy,
  wide,
  opener,
  children,
}: {
  open: boolean;
  onClose: () => void;
  labelledBy: string;
  wide?: boolean;
  opener: RefObject<HTMLElement | null>;
  children: ReactNode;
}) {
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
          // a stray click beside a form must not lose what was typed (a file being edited, DNS
          // credentials): Esc or the dialog's own buttons close it
          onPointerDownOutside={(e) => e.preventDefault()}
          onInteractOutside={(e) => e.preventDefault()}
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
