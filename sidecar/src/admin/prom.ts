// prom-client's registry, metric types and the process metrics, loaded file by file. The package
// index also loads the push gateway client, cluster aggregation, summaries and, through the CPU
// metric's exemplars, @opentelemetry/api: ~15 MB of resident memory that a sidecar in every pod never
// uses (the same reason proxy/undici.ts exists). The public types still come from the package.
import { createRequire } from 'node:module';
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
  () => require('prom-client/lib/metrics/eventLoopLag.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processHandles.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processRequests.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/processResources.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/heapSizeAndUsed.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/heapSpacesSizeAndUsed.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/version.js') as ProcessMetric,
  () => require('prom-client/lib/metrics/gc.js') as ProcessMetric,
];

/** process_* and nodejs_* metrics, as prom-client's collectDefaultMetrics() names them. */
export function collectProcessMetrics(registry: RegistryClass): void {
  for (const load of PROCESS_METRICS) load()(registry, { eventLoopMonitoringPrecision: 10 });
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
