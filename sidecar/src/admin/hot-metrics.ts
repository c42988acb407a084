// Counters and histograms updated on every request, as plain numbers per label set. prom-client's
// own Counter and Histogram hash the label object and validate it on every inc/observe — even
// through `.labels()` — ~2 µs and ~1 KB of garbage per request for the sidecar's seven updates. Here
// a label set is looked up once (`cell`) and updated by adding to numbers; prom-client still does
// the exposition: these objects are registered in its Registry and hand it values in the shape its
// own metrics do, so /metrics reads byte for byte the same (hot-metrics.test.ts).
import type { Registry } from './prom.ts';

type Labels<L extends string> = Readonly<Record<L, string>>;

interface Value {
  labels: Record<string, string | number>;
  /** Printed after `labels` (prom-client's histograms put `le` first). */
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

interface MetricValues {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: Value[];
}

/** Label sets by their values (label names are fixed per metric), in first-seen order. */
class Cells<L extends string, C> {
  readonly #labelNames: readonly L[];
  readonly #make: () => C;
  readonly entries = new Map<string, { labels: Labels<L>; cell: C }>();

  constructor(labelNames: readonly L[], make: () => C) {
    this.#labelNames = labelNames;
    this.#make = make;
  }

  get(labels: Labels<L>): C {
    let key = '';
    for (const name of this.#labelNames) key += `${labels[name]}\u0000`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, cell: this.#make() };
      this.entries.set(key, entry);
    }
    return entry.cell;
  }
}

export interface CounterCell {
  value: number;
}

export interface MetricConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
}

export class HotCounter<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #cells: Cells<L, CounterCell>;

  constructor(config: MetricConfig<L>) {
    this.name = config.name;
    this.help = config.help;
    this.#cells = new Cells(config.labelNames, () => ({ value: 0 }));
    // prom-client formats anything with name, help, type and get().
    config.registry.registerMetric(this as never);
  }

  /** The cell of one label set: keep it, then `cell.value += n`. */
  cell(labels: Labels<L>): CounterCell {
    return this.#cells.get(labels);
  }

  inc(labels: Labels<L>, value = 1): void {
    this.#cells.get(labels).value += value;
  }

  get(): MetricValues {
    const values: Value[] = [];
    for (const { labels, cell } of this.#cells.entries.values()) values.push({ labels, value: cell.value });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramCell {
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HotHistogram<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #cells: Cells<L, HistogramCell>;

  constructor(config: MetricConfig<L> & { buckets: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.#bounds = [...config.buckets].sort((a, b) => a - b);
    this.#cells = new Cells(config.labelNames, () => new HistogramCell(this.#bounds));
    config.registry.registerMetric(this as never);
  }

  cell(labels: Labels<L>): HistogramCell {
    return this.#cells.get(labels);
  }

  get(): MetricValues {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, cell } of this.#cells.entries.values()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += cell.counts[i]!;
        values.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: labels, value: cell.count, metricName: bucket },
        { labels: {}, sharedLabels: labels, value: cell.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: labels, value: cell.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
