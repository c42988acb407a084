// Counts refusals per (policy, provider, code) and guard findings per (policy, provider, guard,
// kind, action, direction), and sends them with the breaker states to the controller every few
// seconds, which turns them into aggregated Events and ProviderDegraded. Counts only: no values.
import type { BreakerState, PolicyBundle, SidecarReport } from '../../../api/src/bundle.ts';
import type { Exchange } from '../proxy/exchange.ts';

type Refusal = SidecarReport['refusals'][number];
type Finding = NonNullable<SidecarReport['findings']>[number];

/** Entries per list in one report (the controller refuses longer ones). */
const MAX_ENTRIES = 256;

const refusalKey = (r: Omit<Refusal, 'count'>): string => `${r.policy}\n${r.provider ?? ''}\n${r.code}`;
const findingKey = (f: Omit<Finding, 'count'>): string =>
  `${f.policy}\n${f.provider ?? ''}\n${f.guard}\n${f.kind}\n${f.action}\n${f.direction}`;

/** Adds `n` under `key`, or the new entry. */
function add<T extends { count: number }>(
  counts: Map<string, T>,
  key: string,
  entry: () => T,
  n: number,
): void {
  const existing = counts.get(key);
  if (existing) existing.count += n;
  else counts.set(key, entry());
}

function subtract<T extends { count: number }>(
  counts: Map<string, T>,
  sent: readonly T[],
  key: (entry: T) => string,
): void {
  for (const entry of sent) {
    const k = key(entry);
    const current = counts.get(k);
    if (!current) continue;
    current.count -= entry.count;
    if (current.count <= 0) counts.delete(k);
  }
}

export class RefusalReporter {
  private refusals = new Map<string, Refusal>();
  private findings = new Map<string, Finding>();
  /** provider name -> the policy that declares it, from the bundle in force. */
  private owners = new Map<string, string>();
  private fallbackPolicy: string | undefined;

  useBundle(bundle: PolicyBundle): void {
    this.owners = new Map(
      bundle.policies.flatMap((p) => p.spec.providers.map((pr) => [pr.name, p.name] as const)),
    );
    this.fallbackPolicy = bundle.policies[0]?.name;
  }

  observe(exchange: Exchange): void {
    const refused = exchange.result !== 'allow' && exchange.code !== null;
    if (!refused && !exchange.findings) return;
    const provider = exchange.provider?.name ?? exchange.requestedProvider;
    const policy = (provider && this.owners.get(provider)) ?? this.fallbackPolicy;
    if (!policy) return;
    const where = { policy, ...(provider && { provider }) };
    if (refused) {
      const code = exchange.code!;
      add(this.refusals, refusalKey({ ...where, code }), () => ({ ...where, code, count: 1 }), 1);
    }
    for (const f of exchange.findings ?? []) {
      const entry = { ...where, ...f };
      add(this.findings, findingKey(entry), () => entry, f.count);
    }
  }

  /** The report to send; counts are cleared only once `delivered` is called with it. */
  next(breakers: ReadonlyMap<string, string>): SidecarReport {
    const states: Record<string, BreakerState> = {};
    for (const [provider, state] of breakers) {
      states[provider] =
        state === 'open' ? 'open' : state === 'halfOpen' || state === 'half-open' ? 'halfOpen' : 'closed';
    }
    const report: SidecarReport = {
      breakers: states,
      refusals: [...this.refusals.values()].slice(0, MAX_ENTRIES).map((r) => ({ ...r })),
    };
    if (this.findings.size > 0)
      report.findings = [...this.findings.values()].slice(0, MAX_ENTRIES).map((f) => ({ ...f }));
    return report;
  }

  delivered(report: SidecarReport): void {
    subtract(this.refusals, report.refusals, refusalKey);
    subtract(this.findings, report.findings ?? [], findingKey);
  }
}
