// Certificate reload against a real HTTPS server: rotated files are served without a restart, a
// mismatched pair is refused (the last good one stays), folders are watched as the kubelet swaps them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestCa, writeServingFiles, type TestCa } from '../../../test/helpers/tls.ts';
import type { ChaperoneError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { createApp } from './app.ts';
import { noPolicies, staticNamespaces } from '../admission/lookups.ts';
import { defaultInjectOptions } from '../inject/settings.ts';
import { startHttpsServer, type HttpsHandle } from './https.ts';
import { loadTlsMaterial, validateTlsMaterial, watchTlsFiles, type TlsWatcher } from './tls.ts';

let ca: TestCa;
let dir: string;
let server: HttpsHandle;
let watcher: TlsWatcher;
const reloaded: string[] = [];
const refused: ChaperoneError[] = [];

/** Serial number of the certificate the server presents to a new connection. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: server.port, ca: ca.caPem, servername: 'localhost' },
      () => {
        const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
        socket.end();
        resolve(serial);
      },
    );
    socket.on('error', reject);
  });
}

async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  ca = await createTestCa();
  dir = mkdtempSync(join(tmpdir(), 'chaperone-tls-'));
  const first = await ca.issueServing();
  const { certFile, keyFile } = writeServingFiles(dir, first);
  const initial = loadTlsMaterial(certFile, keyFile);
  const app = createApp({
    deps: {
      namespaces: staticNamespaces({}),
      policies: noPolicies,
      options: defaultInjectOptions(),
      controllerNamespace: 'x',
    },
    logger: createLogger('silent'),
  });
  server = await startHttpsServer(app, initial, '127.0.0.1', 0);
  watcher = watchTlsFiles({
    certFile,
    keyFile,
    initial,
    pollIntervalMs: 60_000, // long: these tests exercise the folder watch
    onChange: (material) => {
      server.setTls(material);
      reloaded.push(material.fingerprint);
    },
    onError: (err) => refused.push(err),
  });
  expect(await servedSerial()).toBe(first.serial);
});

afterAll(async () => {
  watcher.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS reload', () => {
  it('serves a rotated certificate to new connections without a restart', async () => {
    const next = await ca.issueServing();
    writeServingFiles(dir, next);
    await until('the rotated certificate to be served', async () => (await servedSerial()) === next.serial);
    expect(reloaded).toHaveLength(1);
    expect(watcher.current.cert).toBe(next.cert);
  });

  it('keeps the last good pair when the new key does not match, and reports it once per content', async () => {
    const good = watcher.current;
    const a = await ca.issueServing();
    const b = await ca.issueServing();
    writeFileSync(join(dir, 'tls.crt'), a.cert);
    writeFileSync(join(dir, 'tls.key'), b.key);
    await until('the mismatch to be reported', () => refused.length > 0);
    // Reported once per content: checking the same files again adds nothing.
    const reports = refused.length;
    expect(watcher.check()).toBe(false);
    expect(refused).toHaveLength(reports);
    expect(refused.every((err) => err.code === 'TLS_INVALID')).toBe(true);
    expect(refused.at(-1)?.message).toMatch(/key values mismatch/);
    expect(watcher.current).toBe(good);

    // Completing the rotation (the key arrives) installs it.
    writeFileSync(join(dir, 'tls.key'), a.key);
    await until('the completed pair to be served', async () => (await servedSerial()) === a.serial);
  });

  it('check() reports no change when the files are unchanged', () => {
    expect(watcher.check()).toBe(false);
  });
});

describe('loadTlsMaterial', () => {
  it.each([
    ['missing files', (d: string) => [join(d, 'nope.crt'), join(d, 'nope.key')], /cannot read/],
    [
      'garbage',
      (d: string) => {
        writeFileSync(join(d, 'g.crt'), 'not a certificate');
        writeFileSync(join(d, 'g.key'), 'not a key');
        return [join(d, 'g.crt'), join(d, 'g.key')];
      },
      /unusable certificate\/key pair/,
    ],
  ])('refuses %s with TLS_INVALID', (_title, files, message) => {
    const [cert, key] = files(dir) as [string, string];
    expect(() => loadTlsMaterial(cert, key)).toThrow(message);
    try {
      loadTlsMaterial(cert, key);
    } catch (err) {
      expect((err as ChaperoneError).code).toBe('TLS_INVALID');
    }
  });

  it('reports fingerprint and expiry of a good pair', async () => {
    const pem = await ca.issueServing();
    const material = validateTlsMaterial(pem.cert, pem.key);
    expect(material.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(new Date(material.notAfter).getTime()).toBeGreaterThan(Date.now());
  });
});
