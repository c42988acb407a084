// Projected service-account tokens as the kubelet lays them out: the volume holds timestamped
// directories, `..data` is a symlink to the current one, and each file is a symlink through
// `..data`. A rotation writes a new directory and swaps `..data` with one rename (AtomicWriter),
// so a reader either sees the old token or the new one, never a partial file.
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An unsigned JWT with the given claims: enough for code that only reads claims. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

export class KubeletTokenVolume {
  readonly dir: string;
  #generation = 0;
  #files: Record<string, string> = {};

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  /** Absolute path of a file in the volume (what CHAPERONE_TOKEN_FILES points at). */
  path(file: string): string {
    return join(this.dir, file);
  }

  /** Writes (or rotates) the volume's files, as the kubelet's AtomicWriter does. */
  write(files: Record<string, string>): void {
    this.#files = { ...this.#files, ...files };
    const stamp = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${++this.#generation}`;
    const target = join(this.dir, stamp);
    mkdirSync(target);
    for (const [name, content] of Object.entries(this.#files)) writeFileSync(join(target, name), content);
    let previous: string | undefined;
    try {
      previous = readlinkSync(join(this.dir, '..data'));
    } catch {
      previous = undefined;
    }
    symlinkSync(stamp, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const name of Object.keys(this.#files)) {
      try {
        symlinkSync(join('..data', name), join(this.dir, name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    if (previous) rmSync(join(this.dir, previous), { recursive: true, force: true });
  }
}
