// chaperone-proxy as a process, in standalone mode: a policy file and a secrets directory laid out
// like mounted Secrets, real DNS (localhost), hot reload on edit, the last good policy kept (and
// the reason logged) on a bad edit, key rotation, fail-fast start-up, signals.
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/helpers/eventually.ts';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { httpCall } from './harness.ts';

// Real processes that start, reload and stop: slow on a loaded 2-core machine, never hung.
jest.setTimeout(30_000);

const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const KEY_1 = 'sk-standalone-first-key-111';
const KEY_2 = 'sk-standalone-rotated-key-222';

let mock: MockProvider;
let dir: string;
let ca: string;
const running: ChildProcess[] = [];

interface Proxy {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  stdout(): string;
  ports: { providers: number; forwardProxy: number; admin: number };
  exited: Promise<number | null>;
}

function policyYaml(options: { killSwitch?: boolean; endpoint?: string; models?: string[] } = {}): string {
  const indent = (text: string, n: number): string =>
    text
      .trim()
      .split('\n')
      .map((l) => ' '.repeat(n) + l)
      .join('\n');
  return `# a Secret in the same file is ignored: keys come from --secrets-dir
apiVersion: v1
kind: Secret
metadata: {name: ignored}
---
apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: local-dev}
spec:
  killSwitch: ${options.killSwitch ?? false}
  providers:
    - name: openai
      type: openai
      endpoint: ${options.endpoint ?? `https://localhost:${mock.port}`}
      allowedCIDRs: ['127.0.0.0/8', '::1/128']
      allowedModels: [${(options.models ?? ['gpt-4o-mini']).join(', ')}]
      credentials:
        secretRef: {name: openai-key, key: apiKey}
      caBundle: |
${indent(ca, 8)}
`;
}

function start(args: string[]): Promise<Proxy> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--providers-address',
      '127.0.0.1:0',
      '--proxy-address',
      '127.0.0.1:0',
      '--admin-address',
      '127.0.0.1:0',
      ...args,
    ],
    { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.push(child);
  let out = '';
  let pending = '';
  const lines: Record<string, unknown>[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    pending += chunk;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts)
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 10_000);
    const check = (): void => {
      const listening = lines.find((l) => l.event === 'listening');
      if (listening) {
        clearTimeout(timer);
        resolve({ child, lines, stdout: () => out, ports: listening.ports as Proxy['ports'], exited });
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({
        child,
        lines,
        stdout: () => out,
        ports: { providers: 0, forwardProxy: 0, admin: 0 },
        exited: Promise.resolve(code),
      });
    });
  });
}

const chat = (port: number, model = 'gpt-4o-mini'): ReturnType<typeof httpCall> =>
  httpCall(`http://127.0.0.1:${port}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer placeholder' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });

beforeAll(async () => {
  ca = (await mockPki()).ca;
  mock = await startOpenAiMock({ acceptKeys: [KEY_1, KEY_2] });
  dir = mkdtempSync(join(tmpdir(), 'chaperone-standalone-'));
  mkdirSync(join(dir, 'secrets', 'openai-key'), { recursive: true });
});

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await mock.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('chaperone-proxy --policy FILE --secrets-dir DIR', () => {
  it('serves, reloads on edit, keeps the last good policy on a bad edit, rotates keys, stops on SIGTERM', async () => {
    const policy = join(dir, 'policy.yaml');
    const secrets = join(dir, 'secrets');
    writeFileSync(policy, policyYaml());
    writeFileSync(join(secrets, 'openai-key', 'apiKey'), `${KEY_1}\n`);
    const proxy = await start(['--policy', policy, '--secrets-dir', secrets]);
    expect(proxy.lines.find((l) => l.event === 'listening')).toMatchObject({
      policy: 'local-dev',
      generation: 1,
    });

    const first = await chat(proxy.ports.providers);
    expect(first.status).toBe(200);
    expect(mock.requests[mock.requests.length - 1]!.headers.authorization).toBe(`Bearer ${KEY_1}`);

    // An edit: the kill switch is thrown.
    writeFileSync(policy, policyYaml({ killSwitch: true }));
    await eventually('the kill switch to apply', async () =>
      (await chat(proxy.ports.providers)).status === 503 ? true : undefined,
    );
    expect(JSON.parse((await chat(proxy.ports.providers)).body)).toMatchObject({
      code: 'KILL_SWITCH_ENGAGED',
      policy: 'local-dev',
    });
    const applied = await eventually('the reload to be logged', () =>
      Promise.resolve(proxy.lines.find((l) => l.event === 'policy_applied')),
    );
    expect(applied).toMatchObject({
      generation: 2,
      policy: 'local-dev',
    });

    // A bad edit: refused with its field path, the last good policy (kill switch on) stays.
    writeFileSync(policy, policyYaml({ endpoint: `http://localhost:${mock.port}` }));
    const rejected = await eventually('the rejection to be logged', () =>
      Promise.resolve(proxy.lines.find((l) => l.event === 'policy_rejected')),
    );
    expect(rejected).toMatchObject({ level: 50, generation: 2 });
    expect(rejected.reason).toContain('spec.providers[0].endpoint: endpoint must be an https:// URL');
    expect((await chat(proxy.ports.providers)).status).toBe(503);
    const status = JSON.parse(
      (await httpCall(`http://127.0.0.1:${proxy.ports.admin}/status`)).body,
    ) as Record<string, unknown>;
    expect(status).toMatchObject({
      ready: true,
      policy: { name: 'local-dev', generation: 2, killSwitch: true, source: policy },
    });
    expect((status.lastError as { message: string }).message).toContain('endpoint must be an https:// URL');

    // A good edit again, then a rotated key.
    writeFileSync(policy, policyYaml());
    await eventually('the policy to apply again', async () =>
      (await chat(proxy.ports.providers)).status === 200 ? true : undefined,
    );
    writeFileSync(join(secrets, 'openai-key', 'apiKey'), KEY_2);
    await eventually('the rotated key to be used', async () => {
      await chat(proxy.ports.providers);
      return mock.requests[mock.requests.length - 1]!.headers.authorization === `Bearer ${KEY_2}`
        ? true
        : undefined;
    });

    proxy.child.kill('SIGTERM');
    expect(await proxy.exited).toBe(0);
    expect(proxy.lines.find((l) => l.event === 'stopping')).toMatchObject({ signal: 'SIGTERM' });
    for (const key of [KEY_1, KEY_2]) expect(proxy.stdout()).not.toContain(key);
  });

  it('fails fast when the policy does not load at start-up, saying why', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, policyYaml({ models: [] }).replace('type: openai', 'type: mistral'));
    const proxy = await start(['--policy', bad, '--secrets-dir', join(dir, 'secrets')]);
    expect(await proxy.exited).toBe(1);
    const fatal = proxy.lines.find((l) => l.event === 'policy_rejected');
    expect(fatal).toMatchObject({ level: 60, source: bad });
    expect(fatal!.reason).toMatch(/spec\.providers\[0\]\.type/);
  });

  it('fails fast when a secret file is missing', async () => {
    const policy = join(dir, 'nosecret.yaml');
    writeFileSync(policy, policyYaml());
    const proxy = await start(['--policy', policy, '--secrets-dir', join(dir, 'empty')]);
    expect(await proxy.exited).toBe(1);
    expect(proxy.lines.find((l) => l.event === 'policy_rejected')!.reason).toMatch(
      /spec\.providers\[0\]\.credentials\.secretRef: cannot read .*empty\/openai-key\/apiKey \(ENOENT\)/,
    );
  });

  it('without a policy source, starts not ready and refuses everything', async () => {
    const proxy = await start([]);
    expect((await httpCall(`http://127.0.0.1:${proxy.ports.admin}/readyz`)).status).toBe(503);
    const r = await chat(proxy.ports.providers);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'POLICY_NOT_LOADED' });
    proxy.child.kill('SIGINT');
    expect(await proxy.exited).toBe(0);
  });

  it.each([
    [['--help'], 0, /Usage: chaperone-proxy --policy FILE/],
    [['--bogus'], 2, /Unknown option '--bogus'/],
    [['--proxy-address', 'nope'], 2, /--proxy-address: "nope" is not host:port/],
  ])('%j exits %i', async (args, code, output) => {
    const proxy = await start(args);
    expect(await proxy.exited).toBe(code);
    expect(proxy.stdout()).toMatch(output);
  });
});
