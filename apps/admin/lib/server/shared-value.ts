/**
 * A value read from elsewhere (box's socket, the database) and reused for a while: `get`
 * answers from memory while the value is younger than `maxAgeMs`, otherwise loads it, and
 * concurrent callers share the one load in flight. The value is stamped with when its load
 * started (a change made during the load is not hidden for a whole TTL). `forget` makes the
 * next `get` load again; a load that started before it is still answered to its callers
 * but not kept.
 *
 * Used by GET /api/v1/status (box's health, lib/server/status.ts) and the apps list's ETag
 * (lib/server/apps-list.ts).
 */
export class SharedValue<T> {
  private value?: { v: T; at: number };
  private call?: Promise<T>;
  private generation = 0;

  get(maxAgeMs: number, load: () => Promise<T>, now = Date.now()): Promise<T> {
    if (this.value && now - this.value.at < maxAgeMs) return Promise.resolve(this.value.v);
    if (this.call) return this.call;
    const started = Date.now();
    const generation = this.generation;
    const call = load()
      .then((v) => {
        if (this.generation === generation) this.value = { v, at: started };
        return v;
      })
      .finally(() => {
        if (this.call === call) this.call = undefined;
      });
    this.call = call;
    return call;
  }

  forget(): void {
    this.generation++;
    this.value = undefined;
    this.call = undefined;
  }
}
