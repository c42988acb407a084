// Secret values referenced by policies, read on demand (RBAC: get, no list/watch of every Secret)
// and re-read after `ttlMs`, so a rotated key reaches sidecars within that time.

export type ReadSecret = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

interface Entry {
  data: Record<string, string> | undefined;
  fetchedAt: number;
}

export class SecretCache {
  private readonly entries = new Map<string, Entry>();
  private readonly read: ReadSecret;
  readonly ttl: number;

  constructor(read: ReadSecret, ttlMs = 30_000) {
    this.read = read;
    this.ttl = ttlMs;
  }

  /** Makes sure the named Secrets of `namespace` are loaded and fresh. */
  async load(namespace: string, names: Iterable<string>, now = Date.now()): Promise<void> {
    await Promise.all(
      [...new Set(names)].map(async (name) => {
        const key = `${namespace}/${name}`;
        const entry = this.entries.get(key);
        if (entry && now - entry.fetchedAt < this.ttl) return;
        this.entries.set(key, { data: await this.read(namespace, name), fetchedAt: now });
      }),
    );
  }

  /** The Secret's keys, or undefined when it does not exist (or was not loaded). */
  keys(namespace: string, name: string): string[] | undefined {
    const data = this.entries.get(`${namespace}/${name}`)?.data;
    return data ? Object.keys(data) : undefined;
  }

  value(namespace: string, name: string, key: string): string | undefined {
    return this.entries.get(`${namespace}/${name}`)?.data?.[key];
  }

  /** Forget a Secret so the next load re-reads it (e.g. when a policy starts referencing it). */
  invalidate(namespace: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${namespace}/`)) this.entries.delete(key);
  }
}
