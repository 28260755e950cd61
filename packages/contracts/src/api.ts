import { z } from "zod";
import { TOKEN_SCOPES, USER_ROLES } from "./enums";

/** The latest instant a DATETIME(3) column holds (MariaDB/MySQL): later ones are refused. */
export const MAX_DATETIME = new Date("9999-12-31T23:59:59.999Z");

export const username = z
  .string()
  .min(2, "at least 2 characters")
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");
export const password = z.string().min(10, "at least 10 characters").max(256);

export const setupOwnerRequest = z.strictObject({
  /** the one-time code setup/install.sh printed (also in /etc/hearth/setup-code); checked by the route: missing or wrong → 403 */
  setupCode: z.string().max(64).optional(),
  username,
  email: z.email().max(254),
  password,
  displayName: z.string().max(128).optional(),
});
export type SetupOwnerRequest = z.infer<typeof setupOwnerRequest>;

export const loginRequest = z.strictObject({
  username: z.string().min(1).max(254),
  password: z.string().min(1).max(256),
  totp: z
    .string()
    .regex(/^\d{6}$/, "6 digits")
    .optional(),
});
export type LoginRequest = z.infer<typeof loginRequest>;

/** POST /api/v1/profile/password: ends every other session of the user. */
export const changePasswordRequest = z
  .strictObject({
    currentPassword: z.string().min(1).max(256),
    newPassword: password,
  })
  .refine((b) => b.newPassword !== b.currentPassword, { path: ["newPassword"], message: "must differ from the current password" });
export type ChangePasswordRequest = z.infer<typeof changePasswordRequest>;

/** DELETE /api/v1/profile/sessions ("log out everywhere") → how many sessions ended. */
export const logoutEverywhereResponse = z.object({ ended: z.number().int() });

export const profileResponse = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: z.enum(USER_ROLES),
  totpEnabled: z.boolean(),
});
export type Profile = z.infer<typeof profileResponse>;

export const createTokenRequest = z.strictObject({
  name: z.string().trim().min(1).max(128),
  scope: z.enum(TOKEN_SCOPES),
  expiresAt: z.iso
    .datetime({ offset: true })
    .optional()
    .refine((v) => v === undefined || Date.parse(v) > Date.now(), "must be in the future")
    .refine((v) => v === undefined || Date.parse(v) <= MAX_DATETIME.getTime(), "must be on or before 9999-12-31 (UTC)"),
});
export type CreateTokenRequest = z.infer<typeof createTokenRequest>;

export const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  scope: z.enum(TOKEN_SCOPES),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof tokenView>;
export const createTokenResponse = tokenView.extend({ token: z.string() });

/**
 * GET /api/v1/events (and /api/v1/eventlog, /api/v1/events.csv): `action` is an exact action or
 * a prefix ("user." or "user"); `app` an app's id (its events, also once it is gone); `user` a
 * username (what the user did, and what happened to their account); `format=csv` exports every
 * matching event (no paging).
 */
export const eventLogQuery = z.strictObject({
  action: z.string().max(64).optional(),
  app: z.string().max(36).optional(),
  user: z.string().max(64).optional(),
  format: z.enum(["json", "csv"]).default("json"),
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(200).default(25),
});
export type EventLogQuery = z.infer<typeof eventLogQuery>;

export const eventView = z.object({
  id: z.string(),
  action: z.string(),
  actorId: z.string().nullable(),
  actorName: z.string(),
  sourceIp: z.string(),
  /** the target's key: an app's id, a domain, a username, a token's name … */
  target: z.string(),
  /** what `target` is ("app", "domain", "user" …; "" when the event has none) */
  targetType: z.string(),
  /** the target's name as it was when the event was written (an app's "Title (host)") */
  targetName: z.string(),
  /** the dashboard page of the target while it exists, else null */
  targetHref: z.string().nullable(),
  data: z.unknown(),
  createdAt: z.string(),
});
export type EventView = z.infer<typeof eventView>;

export const statusResponse = z.object({
  version: z.string(),
  setupDone: z.boolean(),
  box: z.enum(["up", "down"]),
  /** HEARTH_INSTALL_ID (a nonce of the install run that started this admin), when set */
  installId: z.string().optional(),
});
export type StatusResponse = z.infer<typeof statusResponse>;

/** Largest JSON request body admin accepts; larger ones get 400 `invalid`. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

// ---- two-factor enrolment (profile) ----

/** POST /api/v1/profile/totp → a pending secret to add to an authenticator app. */
export const totpEnrollResponse = z.object({
  secret: z.string(),
  otpauthUrl: z.string(),
});
export type TotpEnrollResponse = z.infer<typeof totpEnrollResponse>;

/** POST /api/v1/profile/totp/enable: confirms the pending secret with a current code. */
export const totpEnableRequest = z.strictObject({
  code: z.string().regex(/^\d{6}$/, "6 digits"),
});
export type TotpEnableRequest = z.infer<typeof totpEnableRequest>;

/** DELETE /api/v1/profile/totp: turning two-factor off needs the password. */
export const totpDisableRequest = z.strictObject({
  password: z.string().min(1).max(256),
});
export type TotpDisableRequest = z.infer<typeof totpDisableRequest>;

// ---- tasks ----

/** GET /api/v1/tasks/:id/logs?follow=1 (server-sent events, see box-socket.ts). */
export const taskLogsQuery = z.strictObject({
  follow: z.enum(["0", "1", "true", "false"]).optional(),
});

export const eventLogResponse = z.object({
  events: z.array(eventView),
  page: z.number(),
  perPage: z.number(),
  total: z.number(),
});
export type EventLogResponse = z.infer<typeof eventLogResponse>;
