import { execFileSync, spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { OWNER_LABEL } from "../../apps/box/src/docker/docker";

/** The root image that empties a data folder whose files belong to the services' users. */
const ROOT_IMAGE = "localhost/hearth/base:bookworm";

export interface TestDockerObjects {
  /**
   * The owner this test run gave its objects (unique to the run): the containers labelled
   * `hearth.owner=<owner>` or `hearth.test=<owner>` and the networks labelled
   * `hearth.owner=<owner>` are removed. Nothing else is matched by label.
   */
  owner?: string;
  /** The test's apps: each one's container (when it exists), network and data volume, by name. */
  appIds?: readonly string[];
  /** More containers of this test's own, by name (removed when they exist). */
  containers?: readonly string[];
  /** More networks and volumes of this test's own, by name. */
  networks?: readonly string[];
  volumes?: readonly string[];
  /** A folder of the test's (a box data folder): emptied through a root container, then removed. */
  dataDir?: string;
  /** The test database, dropped last. */
  database?: { drop(): Promise<void> };
}

const ids = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
const containerExists = (name: string) => spawnSync("docker", ["container", "inspect", name], { stdio: "ignore" }).status === 0;
const quietly = (args: string[]) => void spawnSync("docker", args, { stdio: "ignore" });

/**
 * An integration test's afterAll: removes exactly what the test made on the shared Docker
 * engine (other engineers' tests run on it at the same time, so only this run's owner label
 * and the names it made), empties and removes its data folder, drops its database.
 */
export async function removeTestDockerObjects(o: TestDockerObjects): Promise<void> {
  const appIds = o.appIds ?? [];
  const containers = o.owner ? [...ids(["ps", "-aq", "--filter", `label=${OWNER_LABEL}=${o.owner}`]), ...ids(["ps", "-aq", "--filter", `label=hearth.test=${o.owner}`])] : [];
  for (const name of [...appIds.map(containerNameOf), ...(o.containers ?? [])]) if (containerExists(name)) containers.push(name);
  if (containers.length) quietly(["rm", "-f", "-v", ...new Set(containers)]);
  for (const id of appIds) {
    quietly(["network", "rm", networkNameOf(id)]);
    quietly(["volume", "rm", dataVolumeNameOf(id)]);
  }
  if (o.owner) {
    const nets = ids(["network", "ls", "-q", "--filter", `label=${OWNER_LABEL}=${o.owner}`]);
    if (nets.length) quietly(["network", "rm", ...nets]);
  }
  for (const n of o.networks ?? []) quietly(["network", "rm", n]);
  for (const v of o.volumes ?? []) quietly(["volume", "rm", v]);
  if (o.dataDir) {
    // the services' data belongs to their users: a root container empties it
    quietly(["run", "--rm", "-v", `${o.dataDir}:/d`, ROOT_IMAGE, "sh", "-c", "rm -rf /d/* /d/.[!.]*"]);
    rmSync(o.dataDir, { recursive: true, force: true });
  }
  await o.database?.drop();
}
