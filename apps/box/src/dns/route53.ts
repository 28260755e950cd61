import type { Change, ResourceRecordSet, Route53Client } from "@aws-sdk/client-route-53";
import { HearthError } from "@hearth/contracts";
import { BaseDnsProvider } from "./base.ts";
import type { Route53Config } from "@hearth/contracts";
import { canonicalIPv6 } from "./names.ts";
import type { DnsRecordSet, DnsRecordType } from "./provider.ts";
import { decodeTxt, encodeTxt } from "./txt.ts";

const CREDENTIAL_ERRORS = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "ExpiredToken",
  "IncompleteSignature",
  "MissingAuthenticationToken",
]);

/** Route 53 escapes some characters of names as octal `\ddd` (e.g. `\052` for `*`). */
function route53Name(name: string): string {
  return name
    .replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
    .toLowerCase()
    .replace(/\.$/, "");
}

/**
 * Amazon Route 53 through @aws-sdk/client-route-53 (SigV4 signing, retries with backoff):
 * ListHostedZonesByName to find the hosted zone when its id is not given,
 * ListResourceRecordSets to read, ChangeResourceRecordSets UPSERT/DELETE to write. DELETE
 * must repeat the current set exactly, so removal reads first. Only simple record sets are
 * handled; weighted/latency/… sets (SetIdentifier) are left alone.
 */
type Route53Sdk = typeof import("@aws-sdk/client-route-53");
let sdkLoading: Promise<Route53Sdk> | null = null;
/** The AWS SDK is loaded when a Route 53 zone is first used: about 30 MiB that a box without one never pays. */
const loadSdk = () => (sdkLoading ??= import("@aws-sdk/client-route-53"));

export class Route53Provider extends BaseDnsProvider {
  readonly kind = "route53";
  private api: Promise<{ sdk: Route53Sdk; client: Route53Client }> | null = null;
  private hostedZoneId: string | undefined;

  constructor(
    zone: string,
    private readonly config: Route53Config,
    private readonly opts: { timeoutMs?: number; maxAttempts?: number } = {},
  ) {
    super(zone);
    this.hostedZoneId = config.hostedZoneId?.replace(/^\/hostedzone\//, "");
  }

  /** The SDK and this zone's client, made on first use. */
  private route53(): Promise<{ sdk: Route53Sdk; client: Route53Client }> {
    const { config, opts } = this;
    this.api ??= loadSdk().then((sdk) => ({
      sdk,
      client: new sdk.Route53Client({
        region: config.region,
        credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
        ...(config.endpoint ? { endpoint: config.endpoint } : {}),
        maxAttempts: opts.maxAttempts ?? 3,
        requestHandler: { requestTimeout: opts.timeoutMs ?? 15_000, connectionTimeout: 5_000 },
      }),
    }));
    return this.api;
  }

  protected describe(): string {
    return `Route 53 (zone ${this.zone})`;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e, what);
    }
  }

  private mapError(e: unknown, what: string): HearthError {
    const err = e as {
      name?: string;
      message?: string;
      code?: string;
      messages?: string[];
      Messages?: { Message?: string | string[] };
      $metadata?: { httpStatusCode?: number };
    };
    const status = err.$metadata?.httpStatusCode;
    // Route 53 used to answer batch errors with an <InvalidChangeBatch><Messages> document
    // instead of <ErrorResponse>; the SDK cannot name those ("Unknown") but keeps Messages.
    const legacy = err.Messages?.Message;
    const legacyMessages = legacy === undefined ? undefined : Array.isArray(legacy) ? legacy : [legacy];
    const name = legacyMessages && (err.name === "Unknown" || !err.name) ? "InvalidChangeBatch" : (err.name ?? "Error");
    const messages = err.messages?.length ? err.messages : legacyMessages;
    const message = (messages?.length ? messages.join("; ") : err.message) ?? name;
    const details = { awsError: name, status };
    const cause = e;
    if (CREDENTIAL_ERRORS.has(name) || status === 403) {
      return new HearthError(
        "invalid",
        `Route 53 rejected the credentials for zone ${this.zone} (${name}): ${message}. The access key needs route53:ListHostedZonesByName, GetHostedZone, ListResourceRecordSets and ChangeResourceRecordSets on the hosted zone.`,
        {
          details,
          cause,
        },
      );
    }
    if (name === "NoSuchHostedZone") {
      return new HearthError("invalid", `Route 53 has no hosted zone ${this.hostedZoneId ?? ""} for ${this.zone}: ${message}`, { details, cause });
    }
    if (name === "InvalidChangeBatch" || name === "InvalidInput") {
      return new HearthError("invalid", `Route 53 refused the change to zone ${this.zone} (${name}): ${message}`, { details, cause });
    }
    if (name === "Throttling" || name === "ThrottlingException" || name === "PriorRequestNotComplete") {
      return new HearthError("external", `Route 53 is busy for zone ${this.zone} (${name}): ${message}; try again later`, { details, cause });
    }
    const network = err.code ?? (e as { cause?: { code?: string } }).cause?.code;
    if (network && /^E[A-Z]+$/.test(network)) {
      return new HearthError("external", `cannot reach Route 53${this.config.endpoint ? ` at ${this.config.endpoint}` : ""} (zone ${this.zone}): ${network}`, { details, cause });
    }
    return new HearthError("external", `Route 53 failed to ${what} (zone ${this.zone}): ${name}: ${message}`, { details, cause });
  }

  private async zoneId(): Promise<string> {
    if (this.hostedZoneId) return this.hostedZoneId;
    const out = await this.send("find the hosted zone", async () => {
      const { sdk, client } = await this.route53();
      return client.send(new sdk.ListHostedZonesByNameCommand({ DNSName: `${this.zone}.`, MaxItems: 10 }));
    });
    // Public zones first: a private zone of the same name answers only inside a VPC.
    const matches = (out.HostedZones ?? []).filter((z) => route53Name(z.Name ?? "") === this.zone);
    const zone = matches.find((z) => !z.Config?.PrivateZone) ?? matches[0];
    if (!zone?.Id) {
      throw new HearthError("invalid", `Route 53 has no hosted zone named ${this.zone} in this account: check the domain or give the hosted zone id`);
    }
    this.hostedZoneId = zone.Id.replace(/^\/hostedzone\//, "");
    return this.hostedZoneId;
  }

  private value(type: DnsRecordType, v: string): string {
    if (type === "TXT") return decodeTxt(v, "octal");
    if (type === "AAAA") return canonicalIPv6(v.trim());
    if (type === "CNAME") return route53Name(v.trim());
    return v.trim();
  }

  private recordValue(type: DnsRecordType, v: string): string {
    if (type === "TXT") return encodeTxt(v, "octal");
    if (type === "CNAME") return `${v}.`;
    return v;
  }

  private async current(name: string, type: DnsRecordType): Promise<ResourceRecordSet | null> {
    const id = await this.zoneId();
    const out = await this.send("read records", async () => {
      const { sdk, client } = await this.route53();
      return client.send(new sdk.ListResourceRecordSetsCommand({ HostedZoneId: id, StartRecordName: `${name}.`, StartRecordType: type, MaxItems: 5 }));
    });
    return (out.ResourceRecordSets ?? []).find((s) => route53Name(s.Name ?? "") === name && s.Type === type && !s.SetIdentifier) ?? null;
  }

  protected async doGet(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const set = await this.current(name, type);
    if (!set) return null;
    if (set.AliasTarget) {
      // An alias has no values of its own; describe it so a conflict message can name it.
      return { name, type, values: [`ALIAS ${route53Name(set.AliasTarget.DNSName ?? "")}`], ttl: 60 };
    }
    const values: string[] = [];
    for (const r of set.ResourceRecords ?? []) {
      const v = this.value(type, r.Value ?? "");
      if (!values.includes(v)) values.push(v);
    }
    if (values.length === 0) return null;
    return { name, type, values, ttl: set.TTL ?? 300 };
  }

  private async change(changes: Change[], what: string): Promise<void> {
    const id = await this.zoneId();
    await this.send(what, async () => {
      const { sdk, client } = await this.route53();
      return client.send(new sdk.ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Comment: "Hearth", Changes: changes } }));
    });
  }

  protected async doUpsert(set: DnsRecordSet): Promise<void> {
    await this.change(
      [
        {
          Action: "UPSERT",
          ResourceRecordSet: {
            Name: `${set.name}.`,
            Type: set.type,
            TTL: set.ttl,
            ResourceRecords: set.values.map((v) => ({ Value: this.recordValue(set.type, v) })),
          },
        },
      ],
      `set ${set.name} ${set.type}`,
    );
  }

  protected async doRemove(name: string, type: DnsRecordType, values?: string[]): Promise<void> {
    const current = await this.current(name, type);
    if (!current) return;
    if (values !== undefined && !current.AliasTarget) {
      const rest = (current.ResourceRecords ?? []).filter((r) => !values.includes(this.value(type, r.Value ?? "")));
      if (rest.length === (current.ResourceRecords ?? []).length) return;
      if (rest.length > 0) {
        await this.change([{ Action: "UPSERT", ResourceRecordSet: { ...current, ResourceRecords: rest } }], `remove values from ${name} ${type}`);
        return;
      }
    } else if (values !== undefined) {
      return; // an alias has none of the given values
    }
    try {
      await this.change([{ Action: "DELETE", ResourceRecordSet: current }], `remove ${name} ${type}`);
    } catch (e) {
      // Deleted by someone else between the read and the delete: already done.
      if (e instanceof HearthError && /not found/i.test(e.message) && (e.details as { awsError?: string }).awsError === "InvalidChangeBatch") return;
      throw e;
    }
  }

  protected async doVerify(): Promise<void> {
    const id = await this.zoneId();
    const out = await this.send("read the hosted zone", async () => {
      const { sdk, client } = await this.route53();
      return client.send(new sdk.GetHostedZoneCommand({ Id: id }));
    });
    const name = route53Name(out.HostedZone?.Name ?? "");
    if (name !== this.zone) throw new HearthError("invalid", `Route 53 hosted zone ${id} is ${name || "unnamed"}, not ${this.zone}`);
    await this.current(this.zone, "TXT");
  }
}
