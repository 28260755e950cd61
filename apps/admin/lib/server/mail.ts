import { DEFAULT_MAIL_OUTBOUND, MAIL_SETTINGS_KEY, mailOutboundStored, type MailOutboundStored } from "@hearth/contracts";
import { getSetting, type Db } from "@hearth/db";

/** The stored outbound mail setting (contracts mail.ts); direct delivery until one is saved. */
export async function readMailOutbound(db: Db): Promise<MailOutboundStored> {
  const r = mailOutboundStored.safeParse(await getSetting(db, MAIL_SETTINGS_KEY));
  return r.success ? r.data : DEFAULT_MAIL_OUTBOUND;
}
