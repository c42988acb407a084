// Prometheus metrics (prom-client, loaded by ./prom.ts), one registry per sidecar. Names and labels are documented in
// docs/sidecar.md. Labels stay low-cardinality: provider names come from the policy, codes are fixed.
import { Counter, Gauge, Registry, collectProcessMetrics } from './prom.ts';
import { HotCounter, HotHistogram, type CounterCell, type HistogramCell } from './hot-metrics.ts';
import type { Exchange } from '../proxy/exchange.ts';
import { elapsedMs } from '../proxy/exchange.ts';
import type { BreakerState } from '../proxy/upstreams.ts';

interface PerProvider {
  requests: Map<string, CounterCell>;
  duration: HistogramCell;
  firstByte: HistogramCell;
  requestBytes: CounterCell;
  responseBytes: CounterCell;
  inputTokens: CounterCell;
  outputTokens: CounterCell;
}

const BREAKER_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface MetricsSources {
  breakers(): Map<string, BreakerState>;
  policy(): { generation: number; loaded: boolean };
  active(): { requests: number; tunnels: number };
}

export class Metrics {
  readonly registry = new Registry();
  // Updated on every request: hot metrics (plain numbers, formatted by prom-client at scrape).
  readonly #requests: HotCounter<'provider' | 'via' | 'result' | 'code'>;
  readonly #duration: HotHistogram<'provider' | 'via'>;
  readonly #firstByte: HotHistogram<'provider'>;
  readonly #bytes: HotCounter<'provider' | 'direction'>;
  readonly #tokens: HotCounter<'provider' | 'type'>;
  readonly #detections: HotCounter<'provider' | 'guard' | 'kind' | 'action' | 'direction'>;
  readonly #reloads: Counter<'outcome'>;

  constructor(sources: MetricsSources, options: { processMetrics?: boolean } = {}) {
    const registry = this.registry;
    const registers = [registry];
    if (options.processMetrics !== false) collectProcessMetrics(registry);
    this.#requests = new HotCounter({
      name: 'chaperone_requests_total',
      help: 'Requests and tunnels by provider, entry point, result (allow, report, deny) and refusal code.',
      labelNames: ['provider', 'via', 'result', 'code'],
      registry,
    });
    this.#duration = new HotHistogram({
      name: 'chaperone_request_duration_seconds',
      help: 'Time from the request arriving to its response ending, as seen by the sidecar.',
      labelNames: ['provider', 'via'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registry,
    });
    this.#firstByte = new HotHistogram({
      name: 'chaperone_upstream_first_byte_seconds',
      help: 'Time from the request arriving to the provider response headers.',
      labelNames: ['provider'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registry,
    });
    this.#bytes = new HotCounter({
      name: 'chaperone_body_bytes_total',
      help: 'Body bytes sent to (request) and received from (response) providers.',
      labelNames: ['provider', 'direction'],
      registry,
    });
    this.#tokens = new HotCounter({
      name: 'chaperone_tokens_total',
      help: 'Model tokens reported by providers (gen_ai.usage), by type (input, output).',
      labelNames: ['provider', 'type'],
      registry,
    });
    this.#detections = new HotCounter({
      name: 'chaperone_guard_detections_total',
      help: 'Data-boundary and guard findings: guard (data-boundary, prompt-injection, tools, cost-burst), kind (detector or rule), action taken, direction (request, response).',
      labelNames: ['provider', 'guard', 'kind', 'action', 'direction'],
      registry,
    });
    this.#reloads = new Counter({
      name: 'chaperone_policy_reloads_total',
      help: 'Policy loads by outcome (applied, rejected: the last good policy stays in force).',
      labelNames: ['outcome'],
      registers,
    });
    new Gauge({
      name: 'chaperone_circuit_breaker_state',
      help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const [provider, state] of sources.breakers()) this.set({ provider }, BREAKER_VALUES[state]);
      },
    });
    new Gauge({
      name: 'chaperone_policy_generation',
      help: 'Generation of the policy in force (0: none loaded).',
      registers,
      collect() {
        this.set(sources.policy().generation);
      },
    });
    new Gauge({
      name: 'chaperone_policy_loaded',
      help: '1 when a policy is loaded (the sidecar is ready), else 0.',
      registers,
      collect() {
        this.set(sources.policy().loaded ? 1 : 0);
      },
    });
    new Gauge({
      name: 'chaperone_active',
      help: 'Requests and tunnels in flight.',
      labelNames: ['kind'],
      registers,
      collect() {
        const { requests, tunnels } = sources.active();
        this.set({ kind: 'requests' }, requests);
        this.set({ kind: 'tunnels' }, tunnels);
      },
    });
  }

  /** Labelled children, looked up once per label set rather than hashed on every request. */
  readonly #children = new Map<string, PerProvider>();

  #forProvider(provider: string, via: Exchange['via']): PerProvider {
    const key = `${provider}\u0000${via}`;
    let children = this.#children.get(key);
    if (!children) {
      children = {
        requests: new Map(),
        duration: this.#duration.cell({ provider, via }),
        firstByte: this.#firstByte.cell({ provider }),
        requestBytes: this.#bytes.cell({ provider, direction: 'request' }),
        responseBytes: this.#bytes.cell({ provider, direction: 'response' }),
        inputTokens: this.#tokens.cell({ provider, type: 'input' }),
        outputTokens: this.#tokens.cell({ provider, type: 'output' }),
      };
      this.#children.set(key, children);
    }
    return children;
  }

  observe(exchange: Exchange): void {
    const provider = exchange.provider?.name ?? 'none';
    const children = this.#forProvider(provider, exchange.via);
    const code = exchange.code ?? 'none';
    const outcome = `${exchange.result}\u0000${code}`;
    let requests = children.requests.get(outcome);
    if (!requests) {
      requests = this.#requests.cell({ provider, via: exchange.via, result: exchange.result, code });
      children.requests.set(outcome, requests);
    }
    requests.value++;
    children.duration.observe(elapsedMs(exchange) / 1000);
    if (exchange.firstByteMs !== undefined) children.firstByte.observe(exchange.firstByteMs / 1000);
    children.requestBytes.value += exchange.requestBytes;
    children.responseBytes.value += exchange.responseBytes;
    const usage = exchange.usage;
    if (usage?.inputTokens) children.inputTokens.value += usage.inputTokens;
    if (usage?.outputTokens) children.outputTokens.value += usage.outputTokens;
    if (exchange.findings) {
      // Counts by kind, never values; kinds come from fixed lists (detectors, guard rules).
      for (const f of exchange.findings)
        this.#detections.inc(
          { provider, guard: f.guard, kind: f.kind, action: f.action, direction: f.direction },
          f.count,
        );
    }
  }

  policyReload(outcome: 'applied' | 'rejected'): void {
    this.#reloads.inc({ outcome });
  }
}
