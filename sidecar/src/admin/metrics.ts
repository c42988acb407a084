// Prometheus metrics (prom-client, loaded by ./prom.ts), one registry per sidecar. Names and labels are documented in
// docs/sidecar.md. Labels stay low-cardinality: provider names come from the policy, codes are fixed.
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectProcessMetrics,
  type CounterChild,
  type HistogramChild,
} from './prom.ts';
import type { Exchange } from '../proxy/exchange.ts';
import { elapsedMs } from '../proxy/exchange.ts';
import type { BreakerState } from '../proxy/upstreams.ts';

interface PerProvider {
  requests: Map<string, CounterChild>;
  duration: HistogramChild<'provider' | 'via'>;
  firstByte: HistogramChild<'provider'>;
  requestBytes: CounterChild;
  responseBytes: CounterChild;
  inputTokens: CounterChild;
  outputTokens: CounterChild;
}

const BREAKER_VALUES: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface MetricsSources {
  breakers(): Map<string, BreakerState>;
  policy(): { generation: number; loaded: boolean };
  active(): { requests: number; tunnels: number };
}

export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'provider' | 'via' | 'result' | 'code'>;
  readonly #duration: Histogram<'provider' | 'via'>;
  readonly #firstByte: Histogram<'provider'>;
  readonly #bytes: Counter<'provider' | 'direction'>;
  readonly #tokens: Counter<'provider' | 'type'>;
  readonly #reloads: Counter<'outcome'>;
  readonly #detections: Counter<'provider' | 'guard' | 'kind' | 'action' | 'direction'>;

  constructor(sources: MetricsSources, options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.processMetrics !== false) collectProcessMetrics(this.registry);
    this.#requests = new Counter({
      name: 'chaperone_requests_total',
      help: 'Requests and tunnels by provider, entry point, result (allow, report, deny) and refusal code.',
      labelNames: ['provider', 'via', 'result', 'code'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'chaperone_request_duration_seconds',
      help: 'Time from the request arriving to its response ending, as seen by the sidecar.',
      labelNames: ['provider', 'via'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers,
    });
    this.#firstByte = new Histogram({
      name: 'chaperone_upstream_first_byte_seconds',
      help: 'Time from the request arriving to the provider response headers.',
      labelNames: ['provider'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers,
    });
    this.#bytes = new Counter({
      name: 'chaperone_body_bytes_total',
      help: 'Body bytes sent to (request) and received from (response) providers.',
      labelNames: ['provider', 'direction'],
      registers,
    });
    this.#tokens = new Counter({
      name: 'chaperone_tokens_total',
      help: 'Model tokens reported by providers (gen_ai.usage), by type (input, output).',
      labelNames: ['provider', 'type'],
      registers,
    });
    this.#detections = new Counter({
      name: 'chaperone_guard_detections_total',
      help: 'Data-boundary and guard findings: guard (data-boundary, prompt-injection, tools, cost-burst), kind (detector or rule), action taken, direction (request, response).',
      labelNames: ['provider', 'guard', 'kind', 'action', 'direction'],
      registers,
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
        duration: this.#duration.labels({ provider, via }),
        firstByte: this.#firstByte.labels({ provider }),
        requestBytes: this.#bytes.labels({ provider, direction: 'request' }),
        responseBytes: this.#bytes.labels({ provider, direction: 'response' }),
        inputTokens: this.#tokens.labels({ provider, type: 'input' }),
        outputTokens: this.#tokens.labels({ provider, type: 'output' }),
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
      requests = this.#requests.labels({ provider, via: exchange.via, result: exchange.result, code });
      children.requests.set(outcome, requests);
    }
    requests.inc();
    children.duration.observe(elapsedMs(exchange) / 1000);
    if (exchange.firstByteMs !== undefined) children.firstByte.observe(exchange.firstByteMs / 1000);
    if (exchange.requestBytes > 0) children.requestBytes.inc(exchange.requestBytes);
    if (exchange.responseBytes > 0) children.responseBytes.inc(exchange.responseBytes);
    const usage = exchange.usage;
    if (usage?.inputTokens) children.inputTokens.inc(usage.inputTokens);
    if (usage?.outputTokens) children.outputTokens.inc(usage.outputTokens);
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
