// The status chaperone-controller writes on each policy. Pure: computed from what the controller
// accepted and what sidecars confirmed; the writer patches it only when it changed.
import type { Enforcement } from './hub.ts';
import type { PolicyState } from './policies.ts';

export interface PolicyStatusBody {
  observedGeneration: number;
  providers: string;
  conditions: {
    type: 'Ready';
    status: 'True' | 'False';
    reason: 'Accepted' | 'Invalid';
    message: string;
    lastTransitionTime: string;
    observedGeneration: number;
  }[];
  enforcement: Enforcement & { summary: string };
}

export function desiredStatus(
  state: PolicyState,
  enforcement: Enforcement | undefined,
  now: Date,
): PolicyStatusBody {
  const accepted = state.accepted;
  const ready = state.error === undefined;
  const message = ready
    ? `generation ${state.generation} accepted`
    : accepted
      ? `generation ${state.generation} rejected, generation ${accepted.generation} stays in force: ${state.error}`
      : `generation ${state.generation} rejected, nothing in force: ${state.error}`;
  const counts = enforcement ?? { generation: accepted?.generation ?? 0, pods: 0, acknowledged: 0 };
  return {
    observedGeneration: state.generation,
    providers: accepted ? accepted.spec.providers.map((p) => p.name).join(',') : '',
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'Accepted' : 'Invalid',
        message: message.slice(0, 32_000),
        lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        observedGeneration: state.generation,
      },
    ],
    enforcement: { ...counts, summary: `${counts.acknowledged}/${counts.pods}` },
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
