// The shipped sidecar is the esbuild bundle `make build` writes (hack/bundle-sidecar.ts). It is built
// here into a folder outside the repository, with only a package.json beside it as in the image: no
// node_modules to fall back on, and the native function hack/build-native.ts compiles. It must start,
// validate its policy in the bundled validator child, drop its start-up pages, proxy a request
// through the bundled undici after that, and keep what the module graph keeps out of start-up.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNative } from '../../hack/build-native.ts';
import { bundleSidecar, type SidecarBundle } from '../../hack/bundle-sidecar.ts';
import { startJsonProcess, type JsonProcess } from '../../test/helpers/json-process.ts';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { httpCall } from './harness.ts';

const KEY = 'sk-bundle-test-key-333';
type Ports = { providers: number; forwardProxy: number; admin: number };

let dir: string;
let bundle: SidecarBundle;
let mock: MockProvider;
let sidecar: JsonProcess<Ports>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chaperone-bundle-'));
  bundle = await bundleSidecar(join(dir, 'app', 'dist', 'sidecar', 'src'));
  const addon = buildNative(join(dir, 'app', 'dist', 'sidecar', 'src', 'page-trim.node'));
  if (!('file' in addon)) throw new Error(`page-trim.node not built: ${addon.reason}`);
  writeFileSync(join(dir, 'app', 'package.json'), '{"type": "module"}\n');
  const ca = (await mockPki()).ca;
  mock = await startOpenAiMock({ acceptKeys: [KEY] });
  mkdirSync(join(dir, 'secrets', 'openai-key'), { recursive: true });
  writeFileSync(join(dir, 'secrets', 'openai-key', 'apiKey'), KEY);
  writeFileSync(
    join(dir, 'policy.yaml'),
    `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: bundled}
spec:
  providers:
    - name: openai
      type: openai
      endpoint: https://localhost:${mock.port}
      allowedCIDRs: ['127.0.0.0/8', '::1/128']
      credentials:
        secretRef: {name: openai-key, key: apiKey}
      caBundle: ${JSON.stringify(ca)}
`,
  );
  sidecar = await startJsonProcess(
    'bundled sidecar',
    bundle.main,
    [
      ...['--policy', join(dir, 'policy.yaml'), '--secrets-dir', join(dir, 'secrets')],
      ...['--providers-address', '127.0.0.1:0', '--proxy-address', '127.0.0.1:0'],
      ...['--admin-address', '127.0.0.1:0'],
    ],
    (line) => (line.event === 'listening' ? (line.ports as Ports) : undefined),
  );
});

afterAll(async () => {
  await sidecar?.stop();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the sidecar bundle', () => {
  it('is main.js with the validator beside it', () => {
    expect(bundle.main).toBe(join(dir, 'app', 'dist', 'sidecar', 'src', 'main.js'));
    expect(bundle.files.map((f) => f.path)).toContain(
      join(dir, 'app', 'dist', 'sidecar', 'src', 'validate-child.js'),
    );
  });

  it('starts without node_modules, with the policy its validator child accepted', () => {
    expect(sidecar.logs.find((l) => l.event === 'listening')).toMatchObject({ policy: 'bundled' });
  });

  it('drops its start-up pages once listening, with the native function beside it', () => {
    const trimmed = sidecar.logs.find((l) => l.event === 'startup_pages') as
      { ok: boolean; failed: number; rssFileBeforeKb: number; rssFileAfterKb: number } | undefined;
    expect(trimmed).toMatchObject({ ok: true, failed: 0 });
    expect(trimmed!.rssFileAfterKb).toBeLessThan(trimmed!.rssFileBeforeKb / 2);
  });

  it('proxies a request with the key from the secrets folder (after dropping those pages)', async () => {
    const res = await httpCall(`http://127.0.0.1:${sidecar.ready.providers}/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer placeholder' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
    const metrics = await httpCall(`http://127.0.0.1:${sidecar.ready.admin}/metrics`);
    expect(metrics.body).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it.each(['jose', 'yaml', 'typebox', '@bufbuild/cel', '@kubernetes/client-node', '@opentelemetry/api'])(
    'has no code of %s in the files it loads at start',
    (pkg) => {
      expect(bundle.startInputs.filter((file) => file.includes(`node_modules/${pkg}/`))).toEqual([]);
    },
  );

  it('imports none of node:http, node:https, node:tls, node:http2 as an ES module', () => {
    expect(bundle.builtinImports.filter((b) => /^(node:)?(http|https|tls|http2)$/.test(b))).toEqual([]);
  });

  // V8 keeps a source with any character above U+00FF at two bytes a character: main.js held 873 KB
  // of heap as its source text instead of 437 KB.
  it('loads only files that V8 can hold one byte a character', () => {
    expect(bundle.startFiles.length).toBeGreaterThan(1);
    const wide = bundle.startFiles.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          /[\u0100-\u{10ffff}]/u.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(wide).toEqual([]);
  });

  it('stops on SIGTERM with exit code 0', async () => {
    expect(await sidecar.stop()).toBe(0);
  });
});
