// chaperone-controller as a real process (no cluster needed): fails fast with a clear message and
// exit code 2 on bad configuration, serves health endpoints, stops cleanly on SIGTERM.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa, writeServingFiles, type TestCa } from '../../test/helpers/tls.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
let dir: string;
let ca: TestCa;
let certFile: string;
let keyFile: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chaperone-main-'));
  ca = await createTestCa();
  ({ certFile, keyFile } = writeServingFiles(dir, await ca.issueServing()));
  kubeconfig = join(dir, 'kubeconfig');
  // An apiserver that is not there: the controller still serves, but is not ready.
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: not-a-real-token}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('chaperone-controller start-up', () => {
  it('prints usage for --help', () => {
    const { status, stdout } = run(['--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^Usage: chaperone-controller --tls-cert FILE --tls-key FILE/);
    expect(stdout).toContain('CHAPERONE_LISTEN');
  });

  it.each([
    [[], /CONFIG_INVALID: --kubeconfig \(or CHAPERONE_KUBECONFIG\) is required outside a cluster/],
    [['--kubeconfig', 'kc', '--tls-cert', 'c'], /CONFIG_INVALID: --tls-key/],
    [['--bogus'], /CONFIG_INVALID: Unknown option '--bogus'/],
    [
      ['--kubeconfig', 'kc', '--tls-cert', '/nonexistent/c', '--tls-key', '/nonexistent/k'],
      /TLS_INVALID: cannot read/,
    ],
  ])('exits 2 for %j with a clear message', (args, message) => {
    const { status, stderr } = run(args);
    expect(status).toBe(2);
    expect(stderr).toMatch(new RegExp(`^chaperone-controller: ${message.source}`));
  });

  it('exits 2 when the kubeconfig cannot be loaded', () => {
    const { status, stderr } = run([
      '--kubeconfig',
      join(dir, 'missing'),
      '--tls-cert',
      certFile,
      '--tls-key',
      keyFile,
    ]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/CONFIG_INVALID: cannot load kubeconfig .*missing/);
  });

  it('exits 1 when the listen address is taken', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { status, stderr } = run(['--listen', `127.0.0.1:${port}`], {
        CHAPERONE_KUBECONFIG: kubeconfig,
        CHAPERONE_TLS_CERT: certFile,
        CHAPERONE_TLS_KEY: keyFile,
      });
      expect(status).toBe(1);
      expect(stderr).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  it('serves /healthz, is not ready without an apiserver, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0'], {
      env: {
        PATH: process.env.PATH ?? '',
        CHAPERONE_KUBECONFIG: kubeconfig,
        CHAPERONE_TLS_CERT: certFile,
        CHAPERONE_TLS_KEY: keyFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
          if (line) resolve((JSON.parse(line) as { port: number }).port);
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const status = (path: string): Promise<number> =>
        new Promise((resolve, reject) => {
          get({ host: '127.0.0.1', port, path, ca: ca.caPem }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject);
        });
      expect(await status('/healthz')).toBe(200);
      expect(await status('/readyz')).toBe(503);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
