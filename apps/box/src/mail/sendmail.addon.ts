import { HearthError } from "@hearth/contracts";
import type { StepContext } from "../tasks/steps";
import type { AddonApp, AddonHandler, ProvisionResult } from "../addons/handler";
import { hashRelayPassword, isRelayUsername, newRelayPassword, senderAddressFor, usernameFor, verifyRelayPassword, type MailAccount, type MailAccountLookup } from "./accounts";

/**
 * The `sendmail` addon: an account on box's mail relay (relay.ts) per app.
 *
 * credentials (sealed by the provisioner in the app's AppAddon row):
 *   username      the app id
 *   password      192 random bits, injected as HEARTH_MAIL_SMTP_PASSWORD
 *   passwordHash  scrypt of it: what the relay checks against (see mailAccountLookup)
 *   from          `<subdomain>.app@<domain>`, the one address the app may send as
 *
 * The AppAddon rows are the account table: the relay asks `mailAccountLookup` on every AUTH,
 * so an account exists exactly while its row does. deprovision also revokes the account
 * in the running relay at once (open sessions included), because the provisioner deletes
 * the row only after deprovision returns.
 */
export interface SendmailAddonDeps {
  relay: { readonly port: number; revoke(username: string): void; restore(username: string): void };
  /** the IPv4 gateway of a Docker network (network.ts): where the app's containers reach the relay */
  gatewayOf(network: string): Promise<string>;
}

export class SendmailAddon implements AddonHandler {
  readonly name = "sendmail" as const;
  constructor(private readonly deps: SendmailAddonDeps) {}

  async provision(app: AddonApp, _options: Record<string, unknown>, previous: Record<string, string> | null, ctx: StepContext): Promise<ProvisionResult> {
    const username = usernameFor(app.id);
    const from = senderAddressFor(app);
    // same password (and hash) as last time, so a re-run or a container re-creation changes nothing
    const keep = previous?.username === username && typeof previous.password === "string" && previous.password.length >= 22;
    const password = keep ? previous.password! : newRelayPassword();
    const oldHash = keep ? previous.passwordHash : undefined;
    const passwordHash = oldHash && (await verifyRelayPassword(password, oldHash)) ? oldHash : await hashRelayPassword(password);
    const server = await this.deps.gatewayOf(app.network);
    this.deps.relay.restore(username);
    ctx.log(`sendmail: ${keep ? "kept" : "made"} the relay account of ${from}, reached at ${server}:${this.deps.relay.port}`);
    return {
      env: {
        HEARTH_MAIL_SMTP_SERVER: server,
        HEARTH_MAIL_SMTP_PORT: String(this.deps.relay.port),
        HEARTH_MAIL_SMTP_USERNAME: username,
        HEARTH_MAIL_SMTP_PASSWORD: password,
        HEARTH_MAIL_FROM: from,
        HEARTH_MAIL_DOMAIN: app.domain.toLowerCase(),
      },
      credentials: { username, password, passwordHash, from },
    };
  }

  async deprovision(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    const username = credentials?.username && isRelayUsername(credentials.username) ? credentials.username : usernameFor(app.id);
    this.deps.relay.revoke(username);
    ctx.log(`sendmail: the relay account of app ${app.id} is disabled`);
  }

  /** Uninstall (data kept): the account is disabled at once; a restore's provision enables it again with the kept password. */
  async detach(app: AddonApp, credentials: Record<string, string> | null, ctx: StepContext): Promise<void> {
    await this.deprovision(app, credentials, ctx);
  }
}

/** The relay's view of a sendmail addon's credentials; null when they are not ours or damaged. */
export function accountFromCredentials(credentials: Record<string, string> | null | undefined): MailAccount | null {
  if (!credentials) return null;
  const { username, passwordHash, from } = credentials;
  if (!username || !passwordHash || !from || !isRelayUsername(username)) return null;
  return { username, passwordHash, from };
}

/**
 * The relay's `lookup`, given how to read an app's sendmail credentials (the provisioner's
 * unsealed AppAddon row for (appId, "sendmail"), or null when there is none).
 */
export function mailAccountLookup(loadCredentials: (appId: string) => Promise<Record<string, string> | null>): MailAccountLookup {
  return async (username) => {
    if (!isRelayUsername(username)) return null;
    let creds: Record<string, string> | null;
    try {
      creds = await loadCredentials(username);
    } catch (e) {
      throw new HearthError("internal", "could not read the mail relay's accounts", { cause: e });
    }
    const account = accountFromCredentials(creds);
    return account && account.username === username ? account : null;
  };
}
