"use client";

import { useState, type FormEvent, type ReactNode } from "react";
import { useMutation } from "@tanstack/react-query";
import { ErrorAlert } from "./ErrorAlert";
import { Modal } from "./Modal";

export { Modal };

export interface ConfirmState {
  open: boolean;
  pending: boolean;
  error: unknown;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * "Are you sure?" before a destructive call. `children` explain the consequences (and may
 * hold a field, e.g. typing the name to confirm, with `confirmDisabled` until it matches).
 * The call's error stays in the dialog, so the user can retry or cancel.
 */
export function ConfirmDialog({
  id,
  title,
  confirmLabel,
  confirmDisabled,
  children,
  open,
  pending,
  error,
  onConfirm,
  onCancel,
}: ConfirmState & { id: string; title: string; confirmLabel: string; confirmDisabled?: boolean; children?: ReactNode }) {
  function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!pending && !confirmDisabled) onConfirm();
  }
  return (
    <Modal open={open} onClose={onCancel} labelledBy={`${id}-title`}>
      <form className="confirm-form" onSubmit={submit}>
        <h2 id={`${id}-title`}>{title}</h2>
        {children}
        <ErrorAlert error={error} />
        <div className="row row-end">
          <button type="button" className="btn btn-ghost" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" disabled={pending || confirmDisabled}>
            {confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * The state behind a ConfirmDialog: `ask(target)` opens it (clearing the last attempt's
 * error), confirming runs `action(target)`, success closes it and then calls `onSuccess`.
 * Spread `dialog` into <ConfirmDialog>.
 */
export function useConfirm<T, R = unknown>(action: (target: T) => Promise<R>, onSuccess?: (result: R, target: T) => void) {
  const [target, setTarget] = useState<T | null>(null);
  const mutation = useMutation({
    mutationFn: action,
    onSuccess: (r, t) => {
      setTarget(null);
      onSuccess?.(r, t);
    },
  });
  const dialog: ConfirmState = {
    open: target !== null,
    pending: mutation.isPending,
    error: mutation.error,
    onConfirm: () => {
      if (target !== null) mutation.mutate(target);
    },
    onCancel: () => setTarget(null),
  };
  return {
    target,
    ask: (t: T) => {
      mutation.reset();
      setTarget(t);
    },
    dialog,
  };
}
