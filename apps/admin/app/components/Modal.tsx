"use client";

import dynamic from "next/dynamic";
import { useRef, useState, type ReactNode } from "react";

// Radix and its helpers (focus scope, scroll lock, portal) are loaded when a dialog first
// opens, not with every page that has one (bench/admin-page-weight.ts)
const RadixModal = dynamic(() => import("./RadixModal"), { ssr: false });

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
  const [used, setUsed] = useState(false);
  if (open && !used) setUsed(true);
  if (!used) return null;
  return (
    <RadixModal open={open} onClose={onClose} labelledBy={labelledBy} wide={wide} opener={opener}>
      {children}
    </RadixModal>
  );
}
