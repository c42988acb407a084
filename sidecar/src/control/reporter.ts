// Counts refusals per (policy, provider, code) and sends them with the breaker states to the
// controller every few seconds, which turns them into aggregated Events and ProviderDegraded.
import type { BreakerState, PolicyBundle, SidecarReport } from '../../../api/src/bundle.ts';
import type { Exchange } from '../proxy/exchange.ts';

export class RefusalReporter {
  private counts = new Map<string, SidecarReport['refusals'][number]>();
  /** provider name → the policy that declares it, from the bundle in force. */
  private owners = new Map<string, string>();
  private fallbackPolicy: string | undefined;

  useBundle(bundle: PolicyBundle): void {
    this.owners = new Map(
      bundle.policies.flatMap((p) => p.spec.providers.map((pr) => [pr.name, p.name] as const)),
    );
    this.fallbackPolicy = bundle.policies[0]?.name;
  }

  observe(exchange: Exchange): void {
    if (exchange.result === 'allow' || exchange.code === null) return;
    const provider = exchange.provider?.name ?? exchange.requestedProvider;
    const policy = (provider && this.owners.get(provider)) ?? this.fallbackPolicy;
    if (!policy) return;
    const key = `${policy}\n${provider ?? ''}\n${exchange.code}`;
    const entry = this.counts.get(key);
    if (entry) entry.count++;
    else this.counts.set(key, { policy, ...(provider && { provider }), code: exchange.code, count: 1 });
  }

  /** The report to send; counts are cleared only once `delivered` is called with it. */
  next(breakers: ReadonlyMap<string, string>): SidecarReport {
    const states: Record<string, BreakerState> = {};
    for (const [provider, state] of breakers) {
      states[provider] =
        state === 'open' ? 'open' : state === 'halfOpen' || state === 'half-open' ? 'halfOpen' : 'closed';
    }
    return { breakers: states, refusals: [...this.counts.values()].slice(0, 256).map((r) => ({ ...r })) };
  }

  delivered(report: SidecarReport): void {
    for (const sent of report.refusals) {
      const key = `${sent.policy}\n${sent.provider ?? ''}\n${sent.code}`;
      const entry = this.counts.get(key);
      if (!entry) continue;
      entry.count -= sent.count;
      if (entry.count <= 0) this.counts.delete(key);
    }
  }
}
