import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { INFRA, INFRA_VERSION, parseServicesEnv, SERVICE_VERSIONS } from "./infra";

const ENV_FILE = path.resolve(import.meta.dirname, "../../../../setup/images/services.env");

describe("infra versions", () => {
  it("say the same as setup/images/services.env, the file the image builds read", () => {
    const env = parseServicesEnv(readFileSync(ENV_FILE, "utf8"));
    expect(env).toEqual({
      INFRA_VERSION,
      MARIADB_VERSION: SERVICE_VERSIONS.mariadb,
      POSTGRESQL_VERSION: SERVICE_VERSIONS.postgresql,
      REDIS_VERSION: SERVICE_VERSIONS.redis,
    });
  });

  it("name the images the build scripts tag", () => {
    expect(INFRA.services.mariadb.image).toBe(`localhost/hearth/mariadb:${SERVICE_VERSIONS.mariadb}`);
    expect(INFRA.services.postgresql.image).toBe(`localhost/hearth/postgresql:${SERVICE_VERSIONS.postgresql}`);
    expect(INFRA.services.redis.image).toBe(`localhost/hearth/redis:${SERVICE_VERSIONS.redis}`);
  });

  it("parseServicesEnv refuses what the shell reader refuses", () => {
    expect(parseServicesEnv("# c\n\nA_B=1.2\n")).toEqual({ A_B: "1.2" });
    expect(() => parseServicesEnv('A="1"')).toThrow(/line 1/);
    expect(() => parseServicesEnv("A=$(x)")).toThrow();
  });
});
