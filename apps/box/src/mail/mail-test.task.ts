import os from "node:os";
import { mailTestTaskArgs } from "@hearth/contracts";
import { dashboardDomainNames, type Db } from "@hearth/db";
import { defineTask, TaskError, type TaskDefinition } from "../tasks/registry";
import type { SettingOutbound } from "./outbound-setting";

/**
 * `mail.test` { to }: a short message from no-reply@<dashboard domain> (the host name when
 * there is no domain yet) through the outbound path as it is set now, not through an app's
 * relay account. Succeeds with { accepted: true, from, to, via, response } when the next hop
 * took it (its answer is the task's final message); fails `external` with the remote's
 * answer otherwise, `bad_state` when the setting cannot be used. Not resumable: an
 * interrupted run would send a second mail.
 */
export interface MailTestDeps {
  db: Db;
  outbound: SettingOutbound;
  /** default os.hostname() */
  hostname?: string;
}

export async function senderDomainOf(db: Db, hostname: string): Promise<string> {
  return (await dashboardDomainNames(db))[0] ?? hostname;
}

export function mailTasks(deps: MailTestDeps): TaskDefinition[] {
  return [
    defineTask({
      type: "mail.test",
      resumable: false,
      args: mailTestTaskArgs,
      async run(ctx) {
        const hostname = deps.hostname ?? os.hostname();
        await ctx.progress(10, "Reading the outbound mail setting");
        const resolved = await deps.outbound.resolve();
        if (!resolved.ok) throw new TaskError(`The outbound mail setting cannot be used: ${resolved.reason}`, "bad_state");
        const from = `no-reply@${await senderDomainOf(deps.db, hostname)}`;
        const to = ctx.args.to;
        const { default: nodemailer } = await import("nodemailer");
        const composed = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail({
          from: { name: "Hearth", address: from },
          to,
          subject: "Hearth test mail",
          text: `This is a test message from Hearth on ${hostname}, sent through ${resolved.via}.\n\nIf you can read it, this server's outbound mail works.\n`,
        });
        ctx.log(`sending a test mail from <${from}> to <${to}> through ${resolved.via}`);
        await ctx.progress(40, `Sending through ${resolved.via}`);
        const r = await resolved.outbound.deliver({ from, to: [to] }, composed.message as Buffer);
        if (r.failed.length || !r.accepted.length) {
          const answer = r.failed.map((f) => f.message).join("; ") || "the message was not accepted";
          ctx.log(`not accepted: ${answer}`);
          throw new TaskError(`Not accepted: ${answer}`.slice(0, 500), "external");
        }
        const response = r.response || "accepted";
        ctx.log(`accepted: ${response}`);
        await ctx.progress(100, `Accepted: ${response}`);
        return { accepted: true, from, to, via: resolved.via, response };
      },
    }),
  ] as TaskDefinition[];
}
