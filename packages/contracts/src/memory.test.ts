import { describe, expect, it } from "vitest";
import { HearthError } from "./errors";
import { MIN_MEMORY_LIMIT } from "./manifest";
import { assertMemoryLimit, hearthMemoryReserve, maxAppMemoryLimit, MIB, serverMemoryLimits } from "./memory";

const GiB = 1024 * MIB;

function thrown(f: () => void): HearthError {
  try {
    f();
  } catch (e) {
    return e as HearthError;
  }
  throw new Error("did not throw");
}

describe("memory limits against the server's memory", () => {
  it("keeps the larger of 512 MiB and 10 % for Hearth", () => {
    expect(hearthMemoryReserve(2 * GiB)).toBe(512 * MIB);
    expect(hearthMemoryReserve(5 * GiB)).toBe(512 * MIB);
    expect(hearthMemoryReserve(24 * GiB)).toBe(2458 * MIB);
    expect(maxAppMemoryLimit(2 * GiB)).toBe(1536 * MIB);
    // 24 GiB host (the issue's): 24576 - 2458 (10 %, rounded up to whole MiB) = 22118 MiB
    expect(maxAppMemoryLimit(24 * GiB)).toBe(22118 * MIB);
    // a total that is not whole MiB still gives whole MiB
    expect(maxAppMemoryLimit(4 * GiB + 12345) % MIB).toBe(0);
    // a tiny server still allows the smallest limit
    expect(maxAppMemoryLimit(256 * MIB)).toBe(MIN_MEMORY_LIMIT);
    expect(serverMemoryLimits(2 * GiB)).toEqual({ totalBytes: 2 * GiB, reservedBytes: 512 * MIB, minLimitBytes: MIN_MEMORY_LIMIT, maxLimitBytes: 1536 * MIB });
  });

  it("accepts up to the maximum and refuses 1 MiB more with the maximum in MiB in the message", () => {
    expect(() => assertMemoryLimit(22118 * MIB, 24 * GiB)).not.toThrow();
    const e = thrown(() => assertMemoryLimit(60000 * MIB, 24 * GiB));
    expect(e).toBeInstanceOf(HearthError);
    expect(e.code).toBe("invalid");
    expect(e.status).toBe(400);
    expect(e.message).toBe("A memory limit of 60000 MiB is more than this server can give: at most 22118 MiB (24576 MiB of memory, 2458 MiB kept for Hearth and the system)");
    expect(e.details).toEqual([{ path: ["memoryLimit"], code: "memory_limit_too_high", message: e.message, maximum: 22118 * MIB }]);
    expect(thrown(() => assertMemoryLimit(22119 * MIB, 24 * GiB)).message).toContain("at most 22118 MiB");
  });
});
