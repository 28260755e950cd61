import type { ReactNode } from "react";

/**
 * A list as a table: one heading per column, plus an unlabelled (for screen readers:
 * "Actions") column for a row button when `actions`. With `card`, the table is a card of its
 * own named `card`. `hidden` hides it from assistive tech while a modal dialog about one of
 * its rows is open.
 */
export function Table({
  columns,
  actions,
  hidden,
  card,
  className,
  children,
}: {
  columns: readonly string[];
  actions?: boolean;
  hidden?: boolean;
  card?: string;
  /** extra class on the <table> (column widths of one page) */
  className?: string;
  children: ReactNode;
}) {
  const table = (
    <div className="table-wrap" aria-hidden={hidden && !card ? true : undefined}>
      <table className={className ? `table ${className}` : "table"}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
  if (!card) return table;
  return (
    <section className="card card-flush" aria-label={card} aria-hidden={hidden ? true : undefined}>
      {table}
    </section>
  );
}

/** The row's destructive button ("Delete", "Revoke") in the actions column, named for its row: "Delete example.com". */
export function DangerCell({ action, target, onClick }: { action: string; target: string; onClick: () => void }) {
  return (
    <td className="actions">
      <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={`${action} ${target}`} onClick={onClick}>
        {action}
      </button>
    </td>
  );
}
