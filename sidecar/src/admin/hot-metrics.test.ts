import { describe, expect, it } from '@jest/globals';
import { Counter, Histogram, Registry } from './prom.ts';
import { HotCounter, HotHistogram } from './hot-metrics.ts';

const BUCKETS = [0.001, 0.005, 0.01, 0.5, 60];

type Step = [labels: Record<'provider' | 'via', string>, value: number];

// Each case is fed to prom-client's own metric and to the hot one; /metrics must read the same.
const CASES: [name: string, steps: Step[]][] = [
  ['nothing observed', []],
  ['one observation', [[{ provider: 'openai', via: 'endpoint' }, 0.003]]],
  [
    'values on, between, below and above the bounds',
    [0, 0.001, 0.0010001, 0.005, 0.2, 60, 61, 1e9].map((v): Step => [{ provider: 'a', via: 'endpoint' }, v]),
  ],
  [
    'several label sets, in first-seen order',
    [
      [{ provider: 'b', via: 'forward' }, 0.01],
      [{ provider: 'a', via: 'endpoint' }, 0.02],
      [{ provider: 'b', via: 'forward' }, 0.002],
      [{ provider: 'a', via: 'connect' }, 5],
    ],
  ],
  [
    'label values that need escaping',
    [
      [{ provider: 'quo"te', via: 'back\\slash' }, 0.1],
      [{ provider: 'new\nline', via: 'endpoint' }, 0.1],
    ],
  ],
];

async function exposition(steps: Step[], hot: boolean): Promise<string> {
  const registry = new Registry();
  const common = { name: 'x_seconds', help: 'Help with "quotes" and \\ backslash.' };
  const labelNames = ['provider', 'via'] as const;
  if (hot) {
    const counter = new HotCounter({ ...common, name: 'x_total', labelNames, registry });
    const histogram = new HotHistogram({ ...common, labelNames, buckets: BUCKETS, registry });
    for (const [labels, value] of steps) {
      counter.cell(labels).value += value;
      histogram.cell(labels).observe(value);
    }
  } else {
    const registers = [registry];
    const counter = new Counter({ ...common, name: 'x_total', labelNames, registers });
    const histogram = new Histogram({ ...common, labelNames, buckets: BUCKETS, registers });
    for (const [labels, value] of steps) {
      counter.inc(labels, value);
      histogram.observe(labels, value);
    }
  }
  return registry.metrics();
}

describe('hot metrics', () => {
  it.each(CASES)('read the same as prom-client on /metrics: %s', async (_name, steps) => {
    const expected = await exposition(steps, false);
    expect(await exposition(steps, true)).toBe(expected);
  });

  it('keeps one cell per label set', () => {
    const counter = new HotCounter({
      name: 'y_total',
      help: 'y',
      labelNames: ['a'],
      registry: new Registry(),
    });
    const cell = counter.cell({ a: '1' });
    cell.value += 2;
    counter.inc({ a: '1' });
    expect(counter.cell({ a: '1' })).toBe(cell);
    expect(cell.value).toBe(3);
    expect(counter.cell({ a: '2' })).not.toBe(cell);
  });
});
