// The side-by-side report from recorded figures: medians of (row − direct) per round, saturated
// rates, failing streams, and the verdicts on the targets. No peer is needed here; the
// figures come from `make bench`.
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { formatErrors, validatePolicy } from '../api/src/policy/validate.ts';
import { chaperonePolicy } from './sidecar/peers.ts';
import {
  added,
  median,
  renderMarkdown,
  verdicts,
  type BenchResults,
  type RoundFigures,
  type TargetRecord,
} from './sidecar/report.ts';

const spread = (p50: number, p99: number): { p50: number; p99: number; count: number } => ({
  p50,
  p99,
  count: 100,
});

/** A round in which every figure is `base` ms (`ttft`, `done` for streams) and each rate's p99 is `p99`. */
function round(
  base: number,
  p99: number,
  options: { skip1000?: boolean; streamErrors?: number } = {},
): RoundFigures {
  const rate = { ...spread(base, p99), errors: 0, achieved: 0, cpuMsPerRequest: 0.05 };
  return {
    sequential: spread(base, p99),
    rates: {
      '100': { ...rate, achieved: 100 },
      ...(options.skip1000 ? {} : { '1000': { ...rate, achieved: 1000 } }),
    },
    streams: {
      firstByte: spread(base, p99),
      complete: spread(1300 + base, 1300 + p99),
      errors: options.streamErrors ?? 0,
    },
  };
}

function record(
  name: string,
  path: TargetRecord['path'],
  rounds: RoundFigures[],
  maxRate: number,
): TargetRecord {
  return {
    name,
    path,
    isChaperone: name.startsWith('Chaperone'),
    rounds,
    maxRate,
    maxRates: [maxRate],
    maxClosedRps: maxRate * 1.2,
    closedCpuMsPerRequest: 0.25,
    rssIdleMb: 50,
    rssLoadMb: 80,
  };
}

const results: BenchResults = {
  date: '2026-01-01T00:00:00.000Z',
  tookSeconds: 600,
  scale: 1,
  machine: { cpus: 2, model: 'test cpu', node: 'v24.0.0', pinned: true },
  config: {
    connections: 16,
    rates: [100, 1000],
    p99BudgetMs: 10,
    streamEvents: 64,
    streamIntervalMs: 20,
    streamRate: 20,
  },
  versions: { nginx: '1.22.1', litellm: '1.0.0' },
  targets: [
    record('direct', 'direct', [round(1, 2), round(1, 3), round(1, 2)], 0),
    record('undici pass-through', 'base URL', [round(1.3, 2.5), round(1.3, 3.5), round(1.3, 2.5)], 5000),
    // Medians of (row − direct): p99 differences 0.6, 0.4, 0.5 → 0.5.
    record(
      'Chaperone, allowlist only',
      'base URL',
      [round(1.4, 2.6), round(1.4, 3.4), round(1.4, 2.5)],
      4000,
    ),
    record(
      'LiteLLM',
      'base URL',
      [
        round(30, 60, { skip1000: true }),
        round(30, 60, { skip1000: true }),
        round(30, 60, { skip1000: true }),
      ],
      0,
    ),
    record(
      'Portkey',
      'base URL',
      [
        round(5, 9, { streamErrors: 60 }),
        round(5, 9, { streamErrors: 60 }),
        round(5, 9, { streamErrors: 60 }),
      ],
      900,
    ),
  ],
};

describe('side-by-side report', () => {
  it('takes medians over rounds of the difference with the direct call in the same round', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const [direct, , chaperone] = results.targets;
    expect(added(chaperone!, direct!, (r) => r.rates['1000']?.p99)).toBeCloseTo(0.5, 9);
  });

  it('judges the targets: 1000 rps, the undici ratio, LiteLLM at the highest common rate, Portkey', () => {
    const v = verdicts(results);
    expect(v.map((x) => [x.target, x.figure, x.met])).toEqual([
      ['Chaperone, allowlist only: added p99 ≤ 1 ms at 1000 rps', '0.500 ms', true],
      [
        "Chaperone, allowlist only: ≥ 0.6× the undici pass-through's throughput (p99 < 10 ms, one core)",
        '4000 vs 5000 rps = 0.80×',
        true,
      ],
      // LiteLLM could not take 1000 rps: compared at 100 rps, where both ran (58 / 0.5 = 116×).
      [
        "Chaperone, allowlist only: added p99 ≥ 5× lower than LiteLLM's (at 100 rps)",
        '0.500 vs 58.000 ms = 116.0× lower',
        true,
      ],
      [
        "Chaperone, allowlist only: added p99 lower than Portkey's (at 1000 rps)",
        '0.500 vs 7.000 ms = 14.0× lower',
        true,
      ],
    ]);
  });

  it('does not judge the throughput ratio when the undici floor itself never met the budget', () => {
    const noisy: BenchResults = {
      ...results,
      targets: results.targets.map((t) => (t.name === 'undici pass-through' ? { ...t, maxRate: 0 } : t)),
    };
    const ratio = verdicts(noisy).find((x) => x.target.includes('throughput'))!;
    expect(ratio.met).toBeUndefined();
    expect(renderMarkdown(noisy)).toContain('- not judged: Chaperone, allowlist only: ≥ 0.6× the undici');
  });

  // The direct call measured twice: p99 differences 1.5, -0.5, 2 → a median of 1.5 ms of noise.
  const control = record(
    'direct again (A/A control)',
    'control',
    [round(1, 3.5), round(1, 2.5), round(1, 4)],
    0,
  );

  it('reports the A/A control: its added figures are the resolution, with no proxy figures', () => {
    const withControl: BenchResults = {
      ...results,
      targets: [...results.targets, control],
    };
    const line = verdicts(withControl).at(-1)!;
    expect(line.figure).toBe('median 1.500 ms');
    // 0.5 ms added is under 1 ms, but not resolved by a run whose control swings by 2 ms.
    const ms = verdicts(withControl).find((x) => x.target.endsWith('added p99 ≤ 1 ms at 1000 rps'))!;
    expect(ms.met).toBeUndefined();
    expect(ms.figure).toBe("0.500 ms, within this run's noise (the A/A control's rounds: up to ±2.0 ms)");
    expect(line.met).toBeUndefined();
    const md = renderMarkdown(withControl);
    expect(md).toContain(
      '- not judged: resolution: the direct call against itself (A/A control) adds -0.500 to 2.000 ms p99 at 1000 rps from round to round; an added p99 within ±2.000 ms of zero is not resolved',
    );
    expect(md).toMatch(
      /\| direct again \(A\/A control\) \| control \| 0\.000 \/ 1\.500 \| .* \| — \| {2}\| .* \| — \| — \|$/m,
    );
  });

  it('does not judge an added p99 below minus the control noise: the direct call had the stall', () => {
    // Chaperone's p99 is 4 ms under the direct call's in every round; the control is within 1.5 ms.
    const stalled: BenchResults = {
      ...results,
      targets: [
        ...results.targets.map((t) =>
          t.name === 'Chaperone, allowlist only'
            ? { ...t, rounds: [round(1.4, -2), round(1.4, -1), round(1.4, -2)] }
            : t,
        ),
        control,
      ],
    };
    const v = verdicts(stalled);
    const target = v.find((x) => x.target === 'Chaperone, allowlist only: added p99 ≤ 1 ms at 1000 rps')!;
    expect(target.met).toBeUndefined();
    expect(target.figure).toMatch(/^-4\.000 ms: below zero by more than the A\/A control's ±2\.0 ms/);
    const portkey = v.find((x) => x.target.includes("lower than Portkey's"))!;
    expect(portkey.figure).toBe('-4.000 vs 7.000 ms (no added p99 measured)');
    expect(portkey.met).toBe(true);
  });

  it('prints one row per target, saturated rates and failing streams as such, and the versions', () => {
    const md = renderMarkdown(results);
    expect(md).toContain('| direct | direct | 0 (baseline) |');
    expect(md).toMatch(
      /\| \*\*Chaperone, allowlist only\*\* \| base URL \| 0\.400 \/ 0\.500 \| .* \| 4000 \| 0\.80× \|/,
    );
    expect(md).toContain('saturated (max 0 rps)');
    expect(md).toContain('fails (180 errors)');
    expect(md).toContain('CPU per 1000 rps, % of a core: saturated / arriving at 1000 rps');
    // Closed loop 0.25 ms a request; 0.05 ms a request in each round at 1000 rps; LiteLLM never ran it.
    expect(md).toMatch(/\| \*\*Chaperone, allowlist only\*\* .*\| 25\.0 \/ 5\.0 \| 50 \/ 80 \|$/m);
    expect(md).toMatch(/\| LiteLLM .*\| 25\.0 \/ — \| 50 \/ 80 \|$/m);
    expect(md).toContain('- met: Chaperone, allowlist only: added p99 ≤ 1 ms at 1000 rps — 0.500 ms');
    expect(md).toContain('- litellm: 1.0.0');
  });

  it('prints the median of several max-rate searches with their spread', () => {
    const searched: BenchResults = {
      ...results,
      targets: results.targets.map((t) =>
        t.name === 'Chaperone, allowlist only' ? { ...t, maxRate: 4000, maxRates: [4400, 3100, 4000] } : t,
      ),
    };
    const md = renderMarkdown(searched);
    expect(md).toMatch(/\| 4000 \(3100–4400\) \| 0\.80× \|/);
    expect(md).toContain('(the max rate: median of 3 searches, range in brackets)');
    expect(renderMarkdown(results)).not.toContain('median of');
  });

  it('says when each fixed rate was measured after a discarded settling run', () => {
    const settled: BenchResults = { ...results, config: { ...results.config, settleMs: 1000 } };
    expect(renderMarkdown(settled)).toContain(
      'Each fixed rate is measured after 1 s at that rate, discarded',
    );
    expect(renderMarkdown(results)).not.toContain('discarded');
  });
});

describe('Chaperone policies for the bench', () => {
  it.each([
    ['allowlist', 'dataBoundary: {detectors: []}', "promptInjection: {action: 'Off'}"],
    ['redaction', 'dataBoundary: {action: Redact}', "tools: {action: 'Off'}"],
    ['guards', 'restoreInResponse: true', 'tools: {allowed: [lookup_order], action: Block}'],
  ] as const)(
    '%s is a valid AIProviderPolicy with its data boundary and guards',
    (variant, boundary, guard) => {
      const yaml = chaperonePolicy(
        variant,
        4443,
        '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
      );
      const result = validatePolicy(parse(yaml));
      expect(result.ok ? 'valid' : formatErrors(result.errors)).toBe('valid');
      expect(yaml).toContain('endpoint: https://localhost:4443');
      expect(yaml).toContain(boundary);
      expect(yaml).toContain(guard);
    },
  );
});
