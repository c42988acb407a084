// prom-client's registry, metric types and the process metrics, loaded file by file. The package
// index also loads the push gateway client, cluster aggregation, summaries and, through the CPU
// metric's exemplars, @opentelemetry/api: ~15 MB of resident memory that a sidecar in every pod never
// uses (the same reason proxy/undici.ts exists). The public types still come from the package.
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as PromClient from 'prom-client';
import type { Registry as RegistryClass } from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry.js') as typeof RegistryClass;
export type Registry = RegistryClass;
export const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram = require('prom-client/lib/histogram.js') as typeof PromClient.Histogram;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
/** One labelled child, as `.labels(...)` returns it. */
export type CounterChild = PromClient.Counter.Internal;
export type HistogramChild<T extends string = string> = PromClient.Histogram.Internal<T>;

type ProcessMetric = (registry: RegistryClass, config: Record<string, unknown>) => void;

// defaultMetrics.js minus processCpuTotal (the one that loads OpenTelemetry); the CPU counters are
// registered below from process.cpuUsage(), with prom-client's names. Each file is named in full so
// that the bundle (hack/bundle-sidecar.ts) can include it.
const PROCESS_METRICS: (() => ProcessMetric)[] = [
  () => require('prom-client/lib/metrics/processStartTime.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/osMemoryHeap.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processOpenFileDescriptors.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processMaxFileDescriptors.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processHandles.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processRequests.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processResources.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/heapSizeAndUsed.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/heapSpacesSizeAndUsed.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/version.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/gc.js') as ProcessMetric,
];

/** How often the event loop's lag is sampled for the nodejs_eventloop_lag_* metrics. */
export const LAG_SAMPLE_MS = 100;

/** process_* and nodejs_* metrics, as prom-client's collectDefaultMetrics() names them. */
export function collectProcessMetrics(registry: RegistryClass): void {
  for (const load of PROCESS_METRICS) load()(registry, {});
  collectEventLoopLag(registry);
  const registers = [registry];
  const seconds = (micros: number): number => micros / 1e6;
  let last = process.cpuUsage();
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
  });
  const system = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers,
  });
  new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
    collect() {
      const now = process.cpuUsage();
      const userDelta = seconds(now.user - last.user);
      const systemDelta = seconds(now.system - last.system);
      last = now;
      user.inc(userDelta);
      system.inc(systemDelta);
      this.inc(userDelta + systemDelta);
    },
  });
}

/**
 * prom-client's nodejs_eventloop_lag_* gauges, sampled every LAG_SAMPLE_MS and less that interval.
 * The histogram is a timer, in every pod, idle or not: at prom-client's 10 ms an idle sidecar woke
 * 200 times a second and used 8 ms of CPU a second; at 100 ms, 2 ms. Node records the time between
 * ticks, interval included (prom-client reports 0.010 s at rest), so the interval is taken off here:
 * at rest the lag is ~0, and an alert on 0.1 s does not fire on the sampling itself. A stall longer
 * than the interval shows in the max and the percentiles of its scrape period.
 */
function collectEventLoopLag(registry: RegistryClass): void {
  const histogram = monitorEventLoopDelay({ resolution: LAG_SAMPLE_MS });
  histogram.enable();
  const registers = [registry];
  const lagOf = (nanos: number): number => Math.max(0, nanos / 1e9 - LAG_SAMPLE_MS / 1000);
  const stats: [string, string, () => number][] = [
    ['min', 'The minimum recorded event loop delay.', () => histogram.min],
    ['max', 'The maximum recorded event loop delay.', () => histogram.max],
    ['mean', 'The mean of the recorded event loop delays.', () => histogram.mean],
    ['p50', 'The 50th percentile of the recorded event loop delays.', () => histogram.percentile(50)],
    ['p90', 'The 90th percentile of the recorded event loop delays.', () => histogram.percentile(90)],
    ['p99', 'The 99th percentile of the recorded event loop delays.', () => histogram.percentile(99)],
  ];
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds.',
    registers,
    // Registered first: its collect sets the others before they are read, then starts the next
    // period. Its own value, as prom-client's, is the wait for setImmediate at a scrape (shown at the next).
    collect() {
      const start = process.hrtime.bigint();
      setImmediate(() => this.set(Number(process.hrtime.bigint() - start) / 1e9));
      if (histogram.count > 0) {
        for (const { gauge, read } of gauges) gauge.set(lagOf(read()));
        stddev.set(histogram.stddev / 1e9);
      }
      histogram.reset();
    },
  });
  const gauges = stats.map(([stat, help, read]) => ({
    read,
    gauge: new Gauge({ name: `nodejs_eventloop_lag_${stat}_seconds`, help, registers }),
  }));
  const stddev = new Gauge({
    name: 'nodejs_eventloop_lag_stddev_seconds',
    help: 'The standard deviation of the recorded event loop delays.',
    registers,
  });
}
