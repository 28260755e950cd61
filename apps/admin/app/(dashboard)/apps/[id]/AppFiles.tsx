"use client";

import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { FILE_TEXT_MAX_BYTES, type FileEntry, type FileListResponse, type FileTextResponse } from "@hearth/contracts";
import { api, ApiError } from "../../../../lib/client/api";
import { fromEditor, type LineEnding, lineEndingOf, toEditor } from "../../../../lib/client/line-endings";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { ConfirmDialog, Modal, useConfirm } from "../../../components/ConfirmDialog";
import styles from "./AppFiles.module.css";

/**
 * The file manager of an app's /app/data (issue 14): browse (folders first, pages of
 * PAGE entries), upload with progress (raw body, at most 1 GiB), download, make a folder,
 * rename or move, delete (after a dialog naming what goes) and edit text files up to
 * 1 MiB. Every call goes to admin's `/api/v1/apps/:id/files…`, which box serves; symbolic
 * links are listed with their target.
 */
const PAGE = 200;
const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);
const shown = (p: string) => (p ? `/app/data/${p}` : "/app/data");

function fmtSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** POST the file as the raw body with upload progress (fetch has none). */
function uploadFile(url: string, file: File, onProgress: (sent: number, total: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload was interrupted."));
    xhr.onload = () => {
      if (xhr.status === 200) return resolve();
      let err: { code?: string; message?: string; details?: unknown } | undefined;
      try {
        err = (JSON.parse(xhr.responseText) as { error?: typeof err }).error;
      } catch {
        // not JSON
      }
      reject(new ApiError(xhr.status, err?.code ?? "internal", err?.message ?? `The server answered ${xhr.status}`, err?.details));
    };
    xhr.send(file);
  });
}

/** Saves a file through the browser's download (streamed by admin from box, never held in memory here). */
function download(url: string, name: string): void {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

export function AppFiles({ appId }: { appId: string }) {
  const qc = useQueryClient();
  const base = `/api/v1/apps/${encodeURIComponent(appId)}/files`;
  const [dir, setDir] = useState("");
  const [offset, setOffset] = useState(0);
  const [upload, setUpload] = useState<{ name: string; sent: number; total: number } | null>(null);
  const [uploadError, setUploadError] = useState<unknown>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [renaming, setRenaming] = useState<FileEntry | null>(null);
  const [newName, setNewName] = useState("");
  const [mkdirOpen, setMkdirOpen] = useState(false);
  const [folderName, setFolderName] = useState("");
  // eol: the file's line ending when opened, put back on save (a textarea gives LF only)
  const [editing, setEditing] = useState<{ path: string; content: string; eol: LineEnding } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const key = ["app-files", appId, dir, offset];
  const list = useQuery({ queryKey: key, queryFn: () => api<FileListResponse>(`${base}?${new URLSearchParams({ path: dir, offset: String(offset), limit: String(PAGE) })}`) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["app-files", appId] });
  const go = (d: string) => {
    setDir(d);
    setOffset(0);
  };

  const del = useConfirm((e: FileEntry) => api(`${base}/delete`, { method: "POST", body: { path: join(dir, e.name) } }), refresh);
  const rename = useMutation({
    mutationFn: (v: { from: string; to: string }) => api(`${base}/rename`, { method: "POST", body: v }),
    onSuccess: () => {
      setRenaming(null);
      refresh();
    },
  });
  const mkdir = useMutation({
    mutationFn: (p: string) => api(`${base}/mkdir`, { method: "POST", body: { path: p } }),
    onSuccess: () => {
      setMkdirOpen(false);
      setFolderName("");
      refresh();
    },
  });
  const open = useMutation({
    mutationFn: (p: string) => api<FileTextResponse>(`${base}/text?${new URLSearchParams({ path: p })}`),
    onSuccess: (t) => setEditing({ path: t.path, content: toEditor(t.content), eol: lineEndingOf(t.content) }),
  });
  const save = useMutation({
    mutationFn: (v: { path: string; content: string; eol: LineEnding }) => api(`${base}/text`, { method: "PUT", body: { path: v.path, content: fromEditor(v.content, v.eol) } }),
    onSuccess: () => {
      setEditing(null);
      refresh();
    },
  });

  async function onFiles(files: FileList | null) {
    if (!files) return;
    setUploadError(null);
    try {
      for (const f of Array.from(files)) {
        setUpload({ name: f.name, sent: 0, total: f.size });
        const q = new URLSearchParams({ path: join(dir, f.name), overwrite: overwrite ? "1" : "0" });
        await uploadFile(`${base}/upload?${q}`, f, (sent, total) => setUpload({ name: f.name, sent, total }));
      }
    } catch (e) {
      setUploadError(e);
    } finally {
      setUpload(null);
      if (fileInput.current) fileInput.current.value = "";
      refresh();
    }
  }

  const crumbs = dir ? dir.split("/") : [];
  const data = list.data;
  return (
    <div className={styles.files} data-testid="app-files">
      <h2 id="files-heading">Files</h2>
      <p className="muted">
        The app&apos;s <code>/app/data</code>. Files you add belong to the app&apos;s user; links are shown but never followed out of the folder.
      </p>
      <nav className={styles.crumbs} aria-label="Folder">
        <button type="button" className="btn btn-sm btn-ghost" onClick={() => go("")}>
          /app/data
        </button>
        {crumbs.map((c, i) => (
          <span key={crumbs.slice(0, i + 1).join("/")}>
            /
            <button type="button" className="btn btn-sm btn-ghost" onClick={() => go(crumbs.slice(0, i + 1).join("/"))}>
              {c}
            </button>
          </span>
        ))}
      </nav>
      <div className={styles.toolbar}>
        <label className="btn btn-sm">
          Upload files
          <input ref={fileInput} className={styles.hiddenInput} type="file" multiple aria-label="Upload files" onChange={(e) => void onFiles(e.target.files)} disabled={upload !== null} />
        </label>
        <label className={styles.check}>
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace existing files
        </label>
        <button type="button" className="btn btn-sm" onClick={() => setMkdirOpen(true)}>
          New folder
        </button>
        <button type="button" className="btn btn-sm btn-ghost" onClick={refresh}>
          Refresh
        </button>
      </div>
      {upload ? (
        <div className={styles.progress} aria-live="polite">
          <span>Uploading {upload.name}</span>
          <progress max={upload.total || 1} value={upload.sent} aria-label={`Uploading ${upload.name}`} />
          <span>
            {fmtSize(upload.sent)} of {fmtSize(upload.total)}
          </span>
        </div>
      ) : null}
      <ErrorAlert error={uploadError} />
      <ErrorAlert error={list.error} />
      <ErrorAlert error={open.error} />
      {data ? (
        <>
          <table className={styles.table} aria-label={`Files in ${shown(dir)}`}>
            <thead>
              <tr>
                <th>Name</th>
                <th className={styles.num}>Size</th>
                <th>Modified</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.entries.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    This folder is empty.
                  </td>
                </tr>
              ) : null}
              {data.entries.map((e) => {
                const p = join(dir, e.name);
                return (
                  <tr key={e.name} data-testid="file-row">
                    <td>
                      {e.type === "dir" ? (
                        <button type="button" className={styles.link} onClick={() => go(p)}>
                          {e.name}/
                        </button>
                      ) : (
                        <span>{e.name}</span>
                      )}
                      {e.type === "symlink" ? <span className="muted"> → {e.target}</span> : null}
                    </td>
                    <td className={styles.num}>{e.type === "file" ? fmtSize(e.size) : ""}</td>
                    <td>{new Date(e.mtime).toLocaleString()}</td>
                    <td className={styles.actions}>
                      {e.type === "file" ? (
                        <button
                          type="button"
                          className="btn btn-sm btn-ghost"
                          onClick={() => download(`${base}/download?${new URLSearchParams({ path: p })}`, e.name)}
                          aria-label={`Download ${e.name}`}
                        >
                          Download
                        </button>
                      ) : null}
                      {e.type === "file" && e.size <= FILE_TEXT_MAX_BYTES ? (
                        <button type="button" className="btn btn-sm btn-ghost" onClick={() => open.mutate(p)} aria-label={`Edit ${e.name}`}>
                          Edit
                        </button>
                      ) : null}
                      <button
                        type="button"
                        className="btn btn-sm btn-ghost"
                        aria-label={`Rename ${e.name}`}
                        onClick={() => {
                          rename.reset();
                          setNewName(p);
                          setRenaming(e);
                        }}
                      >
                        Rename
                      </button>
                      <button type="button" className="btn btn-sm btn-ghost" onClick={() => del.ask(e)} aria-label={`Delete ${e.name}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {data.total > PAGE ? (
            <div className={styles.pager}>
              <button type="button" className="btn btn-sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                Previous
              </button>
              <span>
                {offset + 1}–{Math.min(offset + PAGE, data.total)} of {data.total}
              </span>
              <button type="button" className="btn btn-sm" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
                Next
              </button>
            </div>
          ) : null}
        </>
      ) : list.isPending ? (
        <p className="muted">Loading…</p>
      ) : null}

      <ConfirmDialog id="file-delete" title="Delete from the app's data?" confirmLabel="Delete" {...del.dialog}>
        {del.target ? (
          <p>
            <code>{shown(join(dir, del.target.name))}</code>{" "}
            {del.target.type === "dir" ? "and everything in it will be deleted." : del.target.type === "symlink" ? "(a link; what it points to stays) will be deleted." : "will be deleted."} This
            cannot be undone.
          </p>
        ) : null}
      </ConfirmDialog>

      <Modal open={renaming !== null} onClose={() => setRenaming(null)} labelledBy="file-rename-title">
        <form
          className="confirm-form"
          onSubmit={(ev: FormEvent) => {
            ev.preventDefault();
            if (renaming) rename.mutate({ from: join(dir, renaming.name), to: newName.trim() });
          }}
        >
          <h2 id="file-rename-title">Rename or move</h2>
          <label className="field">
            <span>New path inside /app/data</span>
            <input value={newName} onChange={(e) => setNewName(e.target.value)} aria-label="New path" />
          </label>
          <ErrorAlert error={rename.error} />
          <div className="row row-end">
            <button type="button" className="btn btn-ghost" onClick={() => setRenaming(null)}>
              Cancel
            </button>
            <button type="submit" className="btn" disabled={rename.isPending}>
              Rename
            </button>
          </div>
        </form>
      </Modal>

      <Modal open={mkdirOpen} onClose={() => setMkdirOpen(false)} labelledBy="file-mkdir-title">
        <form
          className="confirm-form"
          onSubmit={(ev: FormEvent) => {
            ev.preventDefault();
            mkdir.mutate(join(dir, folderName.trim()));
          }}
        >
          <h2 id="file-mkdir-title">New folder in {shown(dir)}</h2>
          <label className="field">
            <span>Name</span>
            <input value={folderName} onChange={(e) => setFolderName(e.target.value)} aria-label="Folder name" />
          </label>
          <ErrorAlert error={mkdir.error} />
          <div className="row row-end">
            <button type="button" className="btn btn-ghost" onClick={() => setMkdirOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="btn" disabled={mkdir.isPending || !folderName.trim()}>
              Make folder
            </button>
          </div>
        </form>
      </Modal>

      <Modal open={editing !== null} onClose={() => setEditing(null)} labelledBy="file-edit-title" wide>
        {editing ? (
          <form
            className="confirm-form"
            onSubmit={(ev: FormEvent) => {
              ev.preventDefault();
              save.mutate(editing);
            }}
          >
            <h2 id="file-edit-title">Edit {shown(editing.path)}</h2>
            <textarea className={styles.editor} value={editing.content} onChange={(e) => setEditing({ ...editing, content: e.target.value })} aria-label="File content" spellCheck={false} />
            <ErrorAlert error={save.error} />
            <div className="row row-end">
              <button type="button" className="btn btn-ghost" onClick={() => setEditing(null)}>
                Cancel
              </button>
              <button type="submit" className="btn" disabled={save.isPending}>
                Save
              </button>
            </div>
          </form>
        ) : null}
      </Modal>
    </div>
  );
}
