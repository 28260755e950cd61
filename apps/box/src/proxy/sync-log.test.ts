import { describe, expect, it } from "vitest";
import { formatLogLines } from "../tasks/task-log";
import { parseVhostSyncLines, vhostSyncLogLine } from "./sync-log";

const result = { changed: true, reloaded: true, added: [], updated: [], removed: [] };

describe("the vhost sync log line", () => {
  it("says how long the sync, nginx -t and the reload took, and reads back from a task log", () => {
    const own = vhostSyncLogLine(412.4, { ...result, vhosts: 31, nginx: { totalMs: 130, checkMs: 120, reloadMs: 9 } });
    const helper = vhostSyncLogLine(200, { ...result, vhosts: 32, nginx: { totalMs: 140 } });
    const unchanged = vhostSyncLogLine(35, { ...result, changed: false, reloaded: false, vhosts: 32 });
    expect(own).toBe("vhost sync: 412 ms for 31 vhosts; nginx -t 120 ms, reload 9 ms");
    expect(helper).toBe("vhost sync: 200 ms for 32 vhosts; nginx -t + reload 140 ms");
    expect(unchanged).toBe("vhost sync: 35 ms for 32 vhosts; nginx not reloaded (unchanged)");
    // as the task log stores them: timestamped, between other lines
    const log = [formatLogLines("[85%] configuring the reverse proxy"), formatLogLines(own), formatLogLines("certificates"), formatLogLines(helper), formatLogLines(unchanged)].join("");
    expect(parseVhostSyncLines(log)).toEqual({ syncMs: [412, 200, 35], checkMs: [120, 140], vhosts: 32 });
  });

  it("reads nothing from a log without sync lines (a box from before these lines)", () => {
    expect(parseVhostSyncLines(formatLogLines("[85%] configuring the reverse proxy\ninstalled"))).toEqual({ syncMs: [], checkMs: [], vhosts: null });
  });
});
