import { randomUUID } from "node:crypto";
import { HearthError, type SetupOwnerRequest } from "@hearth/contracts";
import { createOwner, eventTimes, isSetupDone, recordEvent, setupCodeHash, setupCodeMatches, sourceNetOf, type User } from "@hearth/db";
import type { AdminContext } from "./context";
import { hashPassword } from "../passwords";
import { waitMs } from "../rate-limit";

/**
 * First-run setup: the owner account, created only with the one-time setup code that
 * setup/install.sh printed. Wrong codes are counted (`setup.code_failed` events) and
 * throttled per network (an IPv4 address or IPv6 /64) and overall, so the code (~59 bits)
 * cannot be guessed; attempts run one at a time under a named lock.
 */
export const SETUP_THROTTLE = { windowMs: 15 * 60_000, perNet: 10, overall: 100 };

const done = () => new HearthError("conflict", "Setup is already done; log in instead");

export async function setupOwner(app: AdminContext, body: SetupOwnerRequest, meta: { sourceIp: string; now?: Date }): Promise<User> {
  if (await isSetupDone(app.db)) throw done();
  return app.locks.run("hearth.setup.owner", { waitSeconds: 20 }, async () => {
    const now = meta.now ?? new Date();
    if (await isSetupDone(app.db)) throw done();
    const since = new Date(now.getTime() - SETUP_THROTTLE.windowMs);
    const [mine, all] = await Promise.all([
      eventTimes(app.db, { action: "setup.code_failed", sourceIp: meta.sourceIp, since, limit: SETUP_THROTTLE.perNet }),
      eventTimes(app.db, { action: "setup.code_failed", since, limit: SETUP_THROTTLE.overall }),
    ]);
    const wait = Math.max(waitMs(mine, SETUP_THROTTLE.perNet, SETUP_THROTTLE.windowMs, now), waitMs(all, SETUP_THROTTLE.overall, SETUP_THROTTLE.windowMs, now));
    if (wait > 0) {
      const s = Math.max(1, Math.ceil(wait / 1000));
      app.logger.warn({ sourceIp: meta.sourceIp, sourceNet: sourceNetOf(meta.sourceIp), retryAfterSeconds: s }, "setup code attempts throttled");
      throw new HearthError("rate_limited", `Too many wrong setup codes; try again in ${s} seconds`, {
        details: { retryAfterSeconds: s },
        headers: { "Retry-After": String(s) },
      });
    }

    const stored = await setupCodeHash(app.db);
    if (!stored) {
      throw new HearthError("forbidden", "There is no setup code: run setup/install.sh on the server, which prints one", {
        details: { field: "setupCode" },
      });
    }
    if (!body.setupCode || !setupCodeMatches(body.setupCode, stored)) {
      await recordEvent(app.db, { action: "setup.code_failed", actorId: null, sourceIp: meta.sourceIp, data: { given: !!body.setupCode } });
      throw new HearthError(
        "forbidden",
        body.setupCode
          ? "Wrong setup code. It is the code setup/install.sh printed; it is also in /etc/hearth/setup-code on the server"
          : "Enter the setup code that setup/install.sh printed (also in /etc/hearth/setup-code on the server)",
        { details: { field: "setupCode" } },
      );
    }

    const passwordHash = await hashPassword(body.password);
    const r = await createOwner(app.db, { id: randomUUID(), username: body.username, email: body.email.toLowerCase(), displayName: body.displayName ?? "", passwordHash }, stored);
    if (!r.ok && r.reason === "done") throw done();
    if (!r.ok) throw new HearthError("forbidden", "The setup code changed meanwhile (setup/install.sh ran again); use the new one", { details: { field: "setupCode" } });
    return r.user;
  });
}
