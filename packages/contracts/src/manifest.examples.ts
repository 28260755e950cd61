/**
 * Example manifests shared by the schema's unit tests and the API's integration tests
 * (an invalid manifest must come back 400 `invalid`, never 500).
 */
export const VALID_MANIFEST = {
  manifestVersion: 1,
  id: "org.example.notes",
  title: "Notes",
  version: "1.2.3",
  dockerImage: "localhost/hearth/org.example.notes:1.2.3",
  httpPort: 8080,
  healthCheckPath: "/healthz",
};

/** [what is wrong, the change, a fragment the error names] — at least 30 bad manifests. */
export const INVALID_MANIFESTS: [string, Record<string, unknown>, RegExp][] = [
  ["unknown top-level field", { colour: "red" }, /colour/],
  ["manifestVersion 2", { manifestVersion: 2 }, /manifestVersion/],
  ["manifestVersion as string", { manifestVersion: "1" }, /manifestVersion/],
  ["id missing", { id: undefined }, /id/],
  ["id not reverse-domain", { id: "notes" }, /reverse-domain/],
  ["id with uppercase", { id: "Org.Example.Notes" }, /reverse-domain/],
  ["id with spaces", { id: "org.example. notes" }, /reverse-domain/],
  ["title empty", { title: "" }, /title/],
  ["title too long", { title: "x".repeat(65) }, /title/],
  ["version not semver", { version: "1.2" }, /semantic version/],
  ["version with v prefix", { version: "v1.2.3" }, /semantic version/],
  ["version leading zero", { version: "01.2.3" }, /semantic version/],
  ["dockerImage missing", { dockerImage: undefined }, /dockerImage/],
  ["dockerImage with spaces", { dockerImage: "localhost/hearth/notes app:1" }, /Docker image/],
  ["dockerImage uppercase name", { dockerImage: "Hearth/Notes:1" }, /Docker image/],
  ["dockerImage shell injection", { dockerImage: "notes;rm -rf /" }, /Docker image/],
  ["httpPort zero", { httpPort: 0 }, /httpPort/],
  ["httpPort too big", { httpPort: 70000 }, /httpPort/],
  ["httpPort fractional", { httpPort: 80.5 }, /httpPort/],
  ["httpPort string", { httpPort: "8080" }, /httpPort/],
  ["healthCheckPath relative", { healthCheckPath: "healthz" }, /absolute path/],
  ["healthCheckPath with space", { healthCheckPath: "/health check" }, /absolute path/],
  ["memoryLimit too small", { memoryLimit: 1024 }, /memoryLimit/],
  ["memoryLimit negative", { memoryLimit: -1 }, /memoryLimit/],
  ["unknown addon", { addons: { mongodb: {} } }, /mongodb/],
  ["addons as array", { addons: ["mysql"] }, /addons/],
  ["tcpPorts bad env name", { tcpPorts: { "ssh-port": { title: "SSH", containerPort: 22, defaultValue: 2222 } } }, /UPPER_CASE/],
  ["tcpPorts missing containerPort", { tcpPorts: { SSH_PORT: { title: "SSH", defaultValue: 2222 } } }, /containerPort/],
  ["firstAdmin without passwordEnv", { firstAdmin: { username: "admin" } }, /firstAdmin\.passwordEnv/],
  ["firstAdmin passwordEnv not UPPER_CASE", { firstAdmin: { passwordEnv: "admin-password" } }, /UPPER_CASE/],
  ["firstAdmin passwordEnv reserved", { firstAdmin: { passwordEnv: "HEARTH_ADMIN_PASSWORD" } }, /Hearth's own/],
  ["firstAdmin same variable twice", { firstAdmin: { usernameEnv: "ADMIN", passwordEnv: "ADMIN" } }, /must differ/],
  ["firstAdmin username with a space", { firstAdmin: { username: "the admin", passwordEnv: "ADMIN_PASSWORD" } }, /printable ASCII/],
  ["firstAdmin unknown field", { firstAdmin: { passwordEnv: "ADMIN_PASSWORD", email: "a@b.c" } }, /email/],
  ["tcpPorts unknown field", { tcpPorts: { SSH_PORT: { title: "SSH", containerPort: 22, defaultValue: 2222, proto: "udp" } } }, /proto/],
  ["tags not lowercase words", { tags: ["Wiki Engine"] }, /lowercase/],
  ["tags as string", { tags: "wiki" }, /tags/],
  ["website not a URL", { website: "example dot com" }, /website/],
  ["website javascript: URL", { website: "javascript:alert(1)" }, /website/],
  ["optionalSso as string", { optionalSso: "yes" }, /optionalSso/],
  ["minHearthVersion not semver", { minHearthVersion: "latest" }, /semantic version/],
];

/** `VALID_MANIFEST` with `change` applied (`undefined` removes a field). */
export function withChange(change: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = { ...VALID_MANIFEST, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete input[k];
  return input;
}
