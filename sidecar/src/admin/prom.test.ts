// The process metrics as the sidecar registers them: prom-client's names, loaded file by file, and an
// event-loop lag sampled every LAG_SAMPLE_MS, less that interval, that still catches a stall.
import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAG_SAMPLE_MS, Registry, collectProcessMetrics } from './prom.ts';

async function value(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) throw new Error(`${name} is not registered`);
  return Number((metric as { values: { value: number }[] }).values[0]?.value);
}

describe('collectProcessMetrics', () => {
  it('registers the process and nodejs metrics under prom-client names', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_max_seconds',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_heap_size_used_bytes',
        'nodejs_gc_duration_seconds',
      ]),
    );
    registry.clear();
  });

  it(`sees a 300 ms stall in the event-loop lag sampled every ${LAG_SAMPLE_MS} ms`, async () => {
    const registry = new Registry();
    collectProcessMetrics(registry);
    await registry.metrics(); // resets the histogram: what follows is this test's
    await sleep(2 * LAG_SAMPLE_MS);
    const quiet = await value(registry, 'nodejs_eventloop_lag_max_seconds');
    // A read resets the histogram, and the interval a reset falls in is not recorded.
    await sleep(2 * LAG_SAMPLE_MS);
    const until = performance.now() + 300;
    while (performance.now() < until); // the stall
    await sleep(2 * LAG_SAMPLE_MS);
    const stalled = await value(registry, 'nodejs_eventloop_lag_max_seconds');
    // Less the sampling interval: ~0 at rest, and the stall less at most one interval.
    expect(quiet).toBeLessThan(0.05);
    expect(stalled).toBeGreaterThan(0.15);
    expect(await value(registry, 'nodejs_eventloop_lag_p50_seconds')).toBeLessThan(0.05);
    registry.clear();
  });
});
