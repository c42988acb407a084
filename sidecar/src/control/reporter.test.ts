import { describe, expect, it } from '@jest/globals';
import type { PolicyBundle } from '../../../api/src/bundle.ts';
import type { CompiledProvider } from '../policy/compile.ts';
import { newExchange } from '../proxy/exchange.ts';
import { RefusalReporter } from './reporter.ts';

const bundle = {
  revision: 'r1',
  namespace: 'payments',
  pod: 'checkout-1',
  policies: [{ name: 'checkout', uid: 'u', generation: 1, spec: { providers: [{ name: 'openai' }] } }],
  secrets: {},
  missingSecrets: [],
} as unknown as PolicyBundle;

function exchange(findings: ReturnType<typeof newExchange>['findings'], code: 'GUARD_BLOCKED' | null = null) {
  const e = newExchange('endpoint', 'POST');
  e.provider = { name: 'openai' } as CompiledProvider;
  e.findings = findings;
  if (code) {
    e.result = 'deny';
    e.code = code;
  }
  return e;
}

describe('RefusalReporter', () => {
  it('sums findings per policy, provider and kind, and clears only what was delivered', () => {
    const reporter = new RefusalReporter();
    reporter.useBundle(bundle);
    const email = {
      guard: 'data-boundary',
      kind: 'email',
      action: 'redacted',
      direction: 'request',
    } as const;
    reporter.observe(exchange([{ ...email, count: 2 }]));
    reporter.observe(
      exchange(
        [
          { ...email, count: 1 },
          { guard: 'tools', kind: 'allowed', action: 'blocked', direction: 'response', count: 1 },
        ],
        'GUARD_BLOCKED',
      ),
    );
    const report = reporter.next(new Map([['openai', 'closed']]));
    expect(report.refusals).toEqual([
      { policy: 'checkout', provider: 'openai', code: 'GUARD_BLOCKED', count: 1 },
    ]);
    expect(report.findings).toEqual([
      { policy: 'checkout', provider: 'openai', ...email, count: 3 },
      {
        policy: 'checkout',
        provider: 'openai',
        guard: 'tools',
        kind: 'allowed',
        action: 'blocked',
        direction: 'response',
        count: 1,
      },
    ]);
    reporter.observe(exchange([{ ...email, count: 4 }]));
    reporter.delivered(report);
    expect(reporter.next(new Map()).findings).toEqual([
      { policy: 'checkout', provider: 'openai', ...email, count: 4 },
    ]);
  });

  it('sends no findings list when there are none (older controllers read the same report)', () => {
    const reporter = new RefusalReporter();
    reporter.useBundle(bundle);
    reporter.observe(exchange(undefined));
    expect(reporter.next(new Map())).toEqual({ breakers: {}, refusals: [] });
  });
});
