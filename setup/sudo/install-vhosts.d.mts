// Types of install-vhosts.mjs for the TypeScript tests and box (the helper itself is plain
// JavaScript so root runs it with Node alone, loading nothing else).
export declare const DEFAULT_ROOT: string;
export declare const DEFAULT_PUBLIC_DIR: string;
export declare const SITE_FILE: RegExp;
export declare const CERT_NAME: RegExp;
export declare const PROXY_HEADERS: Map<string, string>;
export declare class Refusal extends Error {}
export interface Token {
  type: "word" | "string" | ";" | "{" | "}";
  value: string;
  line: number;
}
export interface Directive {
  name: string;
  args: { type: string; value: string }[];
  line: number;
  block: Directive[] | null;
}
export interface HelperOptions {
  root: string;
  publicDir: string;
  nginxPrefix?: string | null;
  nginxConf?: string | null;
  /** admin's port on 127.0.0.1, the only upstream the proxy secret may go to (default 3000). */
  adminPort?: number;
  /** The running nginx's pid file (reload = SIGHUP to it); default /run/nginx.pid unless nginxConf is set. */
  nginxPid?: string | null;
  /**
   * The running master's main error log; with it (default /var/log/nginx/error.log unless
   * nginxConf is set) the reload is the check: no nginx -t, an [emerg] of the master puts the
   * previous set back.
   */
  nginxErrorLog?: string | null;
  /**
   * The group of nginx's workers, who read the certificates of a set with hearth-apps.conf
   * (the flat layout); default: the running master's workers' group, else www-data.
   */
  nginxGroup?: string;
}
export declare const FLAT_FILE: string;
export declare function tokenize(text: string, file?: string): Token[];
export declare function parse(text: string, file?: string): Directive[];
export declare function validateSite(file: string, text: string, o: HelperOptions & { certs: Set<string> }): Set<string>;
export declare function validatePayload(payload: unknown, o: HelperOptions): { sites: Map<string, string>; certs: Map<string, { cert: string; key: string }> };
export declare function checkRootOwned(dir: string): void;
export declare function parseArgs(argv: string[]): HelperOptions;
export declare function install(set: ReturnType<typeof validatePayload>, o: HelperOptions): { code: number; message: string; gen: string | null };
export declare class Stale extends Error {}
export interface CurrentSet {
  gen: string | null;
  sites: Map<string, string>;
  /** "<name>.crt" / "<name>.key" → PEM */
  certs: Map<string, string>;
}
/** The [emerg]/[alert]/[crit] lines `master` wrote to `log.file` after byte `log.offset` (whole lines only), without their timestamps; "" when none. */
export declare function masterErrors(log: { file: string; offset: number }, master: number): string;
export declare function isDelta(payload: unknown): boolean;
export declare function validateDelta(
  payload: unknown,
  current: CurrentSet,
  o: HelperOptions,
): { sites: Map<string, string>; certs: Map<string, { cert: string; key: string }>; fromCurrent: Set<string> };
export declare function installDelta(payload: unknown, o: HelperOptions): { code: number; message: string; gen: string | null };
