// The status chaperone-controller writes on each policy. Pure: computed from what the controller
// accepted, what keeps it from being usable (findings), and what sidecars confirmed; the writer
// patches it only when it changed.
import type { Finding } from './findings.ts';
import type { Enforcement } from './hub.ts';
import type { PolicyState } from './policies.ts';

interface Condition {
  type: 'Accepted' | 'Ready' | 'ProviderDegraded';
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface PolicyStatusBody {
  observedGeneration: number;
  providers: string;
  conditions: Condition[];
  enforcement: Omit<Enforcement, 'openBreakers'> & { summary: string };
}

export function desiredStatus(
  state: PolicyState,
  enforcement: Enforcement | undefined,
  findings: readonly Finding[],
  now: Date,
): PolicyStatusBody {
  const accepted = state.accepted;
  const valid = state.error === undefined;
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const condition = (type: Condition['type'], ok: boolean, reason: string, message: string): Condition => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message: message.slice(0, 32_000),
    lastTransitionTime: time,
    observedGeneration: state.generation,
  });
  const rejection = accepted
    ? `generation ${state.generation} rejected, generation ${accepted.generation} stays in force: ${state.error}`
    : `generation ${state.generation} rejected, nothing in force: ${state.error}`;
  const ready = valid
    ? findings.length === 0
      ? condition('Ready', true, 'Ready', 'every provider is usable')
      : condition('Ready', false, findings[0]!.reason, findings.map((f) => f.message).join('; '))
    : condition('Ready', false, 'Invalid', rejection);
  const counts = enforcement ?? { generation: accepted?.generation ?? 0, pods: 0, acknowledged: 0 };
  const open = Object.entries(counts.openBreakers ?? {}).filter(([, pods]) => pods > 0);
  const degraded = open.length
    ? condition(
        'ProviderDegraded',
        true,
        'CircuitOpen',
        open
          .map(([provider, pods]) => `${provider}: circuit open in ${pods} of ${counts.pods} pods`)
          .join('; '),
      )
    : condition('ProviderDegraded', false, 'CircuitsClosed', 'no sidecar reports an open circuit');
  return {
    observedGeneration: state.generation,
    providers: accepted ? accepted.spec.providers.map((p) => p.name).join(',') : '',
    conditions: [
      valid
        ? condition('Accepted', true, 'Accepted', `generation ${state.generation} accepted`)
        : condition('Accepted', false, 'Invalid', rejection),
      ready,
      degraded,
    ],
    enforcement: {
      generation: counts.generation,
      pods: counts.pods,
      acknowledged: counts.acknowledged,
      summary: `${counts.acknowledged}/${counts.pods}`,
    },
  };
}

/** Equal apart from lastTransitionTime, which only changes when the condition does. */
export function sameStatus(a: PolicyStatusBody | undefined, b: PolicyStatusBody): boolean {
  if (!a) return false;
  const strip = (s: PolicyStatusBody): unknown => ({
    ...s,
    conditions: s.conditions.map(({ lastTransitionTime: _t, ...rest }) => rest),
  });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** Keeps each condition's lastTransitionTime unless its status changed. */
export function carryTransitionTimes(previous: PolicyStatusBody | undefined, next: PolicyStatusBody): void {
  for (const condition of next.conditions) {
    const before = previous?.conditions.find((c) => c.type === condition.type);
    if (before && before.status === condition.status)
      condition.lastTransitionTime = before.lastTransitionTime;
  }
}
