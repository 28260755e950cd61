import { availableParallelism } from "node:os";
import { ContainerStatsReader } from "../docker/container-stats";
import { APP_LABEL, bridgeNameOf, OWNER_LABEL, type DockerApi } from "../docker/docker";
import { networkNameOf } from "../apps/container-spec";
import { HostStatsReader, spaceOf } from "../lib/host-stats";
import type { MetricsSources } from "./metrics.service";

/** The real sources: the engine's list of this store's running app containers (one list call a round), their cgroups, /proc. */
export function liveMetricsSources(docker: DockerApi, owners: readonly string[]): MetricsSources {
  const containers = new ContainerStatsReader();
  const host = new HostStatsReader();
  return {
    async appContainers() {
      const out: { appId: string; containerId: string; bridge: string }[] = [];
      for (const owner of owners) {
        for (const c of await docker.listContainers({ [OWNER_LABEL]: owner })) {
          const appId = c.labels[APP_LABEL];
          if (appId && c.state === "running") out.push({ appId, containerId: c.id, bridge: bridgeNameOf(networkNameOf(appId)) });
        }
      }
      return out;
    },
    container: (id, bridge) => containers.read(id, bridge),
    retainContainers: (live) => containers.retain(live),
    host: () => host.read(),
    uptimeSeconds: () => host.uptimeSeconds(),
    mounts: () => host.mounts(),
    space: (dir) => spaceOf(dir),
    cpuCores: () => availableParallelism(),
  };
}
