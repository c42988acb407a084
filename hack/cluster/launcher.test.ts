// Bad input to the local cluster launcher fails fast with a clear code, never hangs.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, clusterUp, runningCluster, type ClusterError } from './launcher.ts';
import { COMPONENTS } from './layout.ts';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'chaperone-launcher-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A bin folder whose "binaries" exist but are never started by these tests. */
function fakeBinDir(): string {
  const dir = join(scratch, 'bin');
  mkdirSync(dir, { recursive: true });
  for (const c of COMPONENTS) {
    writeFileSync(join(dir, c), '#!/bin/sh\nexit 1\n');
    chmodSync(join(dir, c), 0o755);
  }
  return dir;
}

describe('clusterUp refuses bad input', () => {
  it('names the missing binaries', async () => {
    const empty = join(scratch, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const error = await clusterUp({ stateDir: join(scratch, 'state-a'), binDir: empty }).catch(
      (e: unknown) => e,
    );
    expect((error as ClusterError).code).toBe('BINARY_MISSING');
    expect((error as Error).message).toContain(join(empty, 'kube-apiserver'));
    expect((error as Error).message).toContain('make tools');
  });

  it('refuses a port that is already taken', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const error = await clusterUp({
        stateDir: join(scratch, 'state-b'),
        binDir: fakeBinDir(),
        ports: { apiserver: port },
      }).catch((e: unknown) => e);
      expect((error as ClusterError).code).toBe('PORT_IN_USE');
      expect((error as Error).message).toContain(`port ${port} for the kube-apiserver`);
    } finally {
      server.close();
    }
  });

  it('reports a component that exits at start with its log, and cleans up', async () => {
    const stateDir = join(scratch, 'state-c');
    const error = await clusterUp({ stateDir, binDir: fakeBinDir(), timeoutMs: 20_000 }).catch(
      (e: unknown) => e,
    );
    expect((error as ClusterError).code).toBe('START_FAILED');
    expect((error as Error).message).toMatch(/etcd exited \(1\)/);
    expect(await runningCluster(stateDir)).toBeUndefined();
  }, 30_000);
});

describe('clusterDown', () => {
  it('is a no-op when nothing runs', async () => {
    expect(await clusterDown(join(scratch, 'never-started'))).toBe(false);
  });
});
