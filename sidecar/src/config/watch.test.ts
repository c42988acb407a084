// The standalone policy watch reacts to the policy file and the secrets, not to whatever else
// shares the policy's directory (an audit log written next to it would reload on every line).
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { eventually } from '../../../test/helpers/eventually.ts';
import { PolicyStore } from './store.ts';
import { watchPolicyFile, type PolicyWatch } from './watch.ts';

const policy = (model: string): string => `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: watched}
spec:
  providers:
    - name: openai
      type: openai
      endpoint: https://api.openai.com
      allowedModels: [${model}]
      credentials:
        secretRef: {name: openai-key, key: apiKey}
`;

let dir: string;
let watch: PolicyWatch | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'chaperone-watch-'));
  mkdirSync(join(dir, 'secrets', 'openai-key'), { recursive: true });
  writeFileSync(join(dir, 'secrets', 'openai-key', 'apiKey'), 'sk-watch-test');
  writeFileSync(join(dir, 'policy.yaml'), policy('gpt-4o-mini'));
});

afterEach(() => {
  watch?.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(store: PolicyStore): PolicyWatch {
  return watchPolicyFile({
    file: join(dir, 'policy.yaml'),
    secretsDir: join(dir, 'secrets'),
    store,
    logger: pino({ level: 'silent' }),
    debounceMs: 10,
    pollMs: 60_000,
  });
}

describe('watchPolicyFile', () => {
  it('ignores other files in the policy directory, reloads on the policy and on the keys', async () => {
    const store = new PolicyStore();
    watch = start(store);
    await watch.reload();
    expect(store.lastError).toBeNull();
    expect(store.generation).toBe(1);
    const settled = watch.reloads;

    for (let i = 0; i < 10; i++) {
      appendFileSync(join(dir, 'audit.log'), `{"line":${i}}\n`);
      await sleep(20);
    }
    await sleep(200);
    expect(watch.reloads).toBe(settled);

    writeFileSync(join(dir, 'policy.yaml'), policy('gpt-4o'));
    await eventually('the edited policy to apply', () => (store.generation === 2 ? true : undefined));

    writeFileSync(join(dir, 'secrets', 'openai-key', 'apiKey'), 'sk-watch-rotated');
    await eventually('the rotated key to apply', () => (store.generation === 3 ? true : undefined));
    expect(store.current()?.credentials.secretValues()).toEqual(['sk-watch-rotated']);
  });
});
