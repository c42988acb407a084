// `make demo` runs inside `make test` (CI=true: no pauses): the whole user journey must stay green.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';

const run = promisify(execFile);

describe('make demo', () => {
  it('runs end to end and shows every step', async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'hack', 'demo', 'main.ts')], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CI: 'true' },
      timeout: 240_000,
      maxBuffer: 16 << 20,
    });
    expect(stdout).toContain('▶ 9/9  Clean up');
    expect(stdout).toMatch(/allowed {2}→ Hello from the mock OpenAI provider\./);
    expect(stdout).toContain('"code":"EGRESS_DENIED"');
    expect(stdout).toMatch(/CONNECT exfil\.example\.net:443 \(HTTPS_PROXY\): HTTP 403/);
    expect(stdout).toContain('the provider got:  Refund order 1234 for [EMAIL_1], card [CREDIT_CARD_1].');
    expect(stdout).toContain('"code":"KILL_SWITCH_ENGAGED"');
    expect(stdout).toMatch(/checkout-openai\s+Enforce\s+openai\s+true\s+1\/1\s+True/);
    expect(stdout).toContain('demo complete');
    expect(stdout).not.toContain('sk-demo-9f3b2c7d'.slice(8)); // the key's secret part is never shown
  }, 300_000);
});
