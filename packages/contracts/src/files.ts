import { z } from "zod";

/**
 * The file manager of an app's `/app/data` (issue 14): admin's API `/api/v1/apps/:id/files…`
 * and box's socket `/apps/:id/files/…` take the same shapes. A path is relative to the
 * volume's root (`""` is the root itself), `/`-separated; absolute paths, `..`, empty or `.`
 * components, NUL and other control characters are refused here already (400 invalid,
 * details.reason `outside_volume` or `bad_path`); box checks again and resolves symbolic
 * links inside a chroot of the volume (apps/box/README.md, "The file manager").
 */
export const FILE_PATH_MAX = 4096;
export const FILE_NAME_MAX = 255;
/** Largest upload, in bytes (1 GiB; the dashboard's nginx allows more). */
export const FILE_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;
/** Largest file the text editor opens or saves (1 MiB). */
export const FILE_TEXT_MAX_BYTES = 1024 * 1024;
/** The JSON body of a text save: 1 MiB of text, each character escaped at worst as \uXXXX, plus the path. */
export const FILE_TEXT_BODY_MAX_BYTES = 6 * FILE_TEXT_MAX_BYTES + 16 * 1024;
/** Entries per page of a listing (at most). */
export const FILE_LIST_MAX = 1000;

export type FilePathProblem = { reason: "outside_volume" | "bad_path"; message: string };

/** Why `p` is not a path inside the volume, or null when it is one (the root is ""). */
export function filePathProblem(p: string, opts: { allowRoot?: boolean } = {}): FilePathProblem | null {
  if (p.length > FILE_PATH_MAX) return { reason: "bad_path", message: `a path is at most ${FILE_PATH_MAX} characters` };
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and control characters are what this refuses
  if (/[\u0000-\u001f\u007f]/.test(p)) return { reason: "bad_path", message: "a path may not contain NUL or control characters" };
  if (p.startsWith("/")) return { reason: "outside_volume", message: "absolute paths are refused: give a path relative to /app/data" };
  if (p.includes("\\")) return { reason: "bad_path", message: "a path may not contain a backslash" };
  if (p === "") return opts.allowRoot ? null : { reason: "bad_path", message: "this needs a file or folder, not /app/data itself" };
  for (const c of p.split("/")) {
    if (c === "..") return { reason: "outside_volume", message: "“..” is refused: the path must stay inside /app/data" };
    if (c === "" || c === ".") return { reason: "bad_path", message: "a path may not have empty or “.” parts" };
    if (c.length > FILE_NAME_MAX) return { reason: "bad_path", message: `a name is at most ${FILE_NAME_MAX} characters` };
  }
  return null;
}

const pathField = (allowRoot: boolean) =>
  z.string().superRefine((p, ctx) => {
    const problem = filePathProblem(p, { allowRoot });
    if (problem) ctx.addIssue({ code: "custom", message: problem.message, params: { reason: problem.reason } });
  });
export const filePath = pathField(false);
export const dirPath = pathField(true);

export const fileListQuery = z.strictObject({
  path: dirPath.optional(),
  offset: z.coerce.number().int().min(0).max(10_000_000).optional(),
  limit: z.coerce.number().int().min(1).max(FILE_LIST_MAX).optional(),
});
export type FileListQuery = z.infer<typeof fileListQuery>;

export const FILE_TYPES = ["dir", "file", "symlink", "other"] as const;
export const fileEntry = z.object({
  name: z.string(),
  type: z.enum(FILE_TYPES),
  size: z.number(),
  /** ms since the epoch */
  mtime: z.number(),
  /** a symbolic link's target as written (never followed to list it) */
  target: z.string().optional(),
});
export type FileEntry = z.infer<typeof fileEntry>;
/** Folders first, then by name; `total` entries in the folder, `entries` from `offset`. */
export const fileListResponse = z.object({ path: z.string(), total: z.number(), offset: z.number(), entries: z.array(fileEntry) });
export type FileListResponse = z.infer<typeof fileListResponse>;

export const filePathQuery = z.strictObject({ path: filePath });
export const fileUploadQuery = z.strictObject({ path: filePath, overwrite: z.enum(["0", "1"]).optional() });
export const fileTextBody = z.strictObject({
  path: filePath,
  content: z.string().max(FILE_TEXT_MAX_BYTES, "a text file is at most 1 MiB"),
  /** replace an existing file (default true: the editor saves over what it opened) */
  overwrite: z.boolean().optional(),
});
export type FileTextBody = z.infer<typeof fileTextBody>;
export const fileTextResponse = z.object({ path: z.string(), content: z.string(), size: z.number() });
export type FileTextResponse = z.infer<typeof fileTextResponse>;
export const fileRenameBody = z.strictObject({ from: filePath, to: filePath });
export const filePathBody = z.strictObject({ path: filePath });
export const fileWriteResponse = z.object({ path: z.string(), size: z.number() });
