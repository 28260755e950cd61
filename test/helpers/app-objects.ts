import { execFileSync } from "node:child_process";

/** Every Docker object labelled as the app's (`hearth.app=<id>`), by kind: what a test checks is there, or gone. */
export function appDockerObjects(appId: string): { containers: string[]; networks: string[]; volumes: string[] } {
  const f = ["--filter", `label=hearth.app=${appId}`];
  const ls = (...args: string[]) =>
    execFileSync("docker", [...args, ...f], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  return { containers: ls("ps", "-a", "-q"), networks: ls("network", "ls", "-q"), volumes: ls("volume", "ls", "-q") };
}
