// The decision for one Pod CREATE: look up what the pure functions need, then shouldInject and
// inject. Shared by the HTTP handler and the golden tests.
import type { V1Pod } from '@kubernetes/client-node';
import { ChaperoneError, ERROR_CODES, InvalidOverrideError, PortConflictError } from '../errors.ts';
import { inject } from '../inject/mutate.ts';
import type { InjectReason, SkipReason } from '../inject/reasons.ts';
import type { InjectOptions } from '../inject/settings.ts';
import { shouldInject } from '../inject/should-inject.ts';
import type { InjectionStatus } from '../inject/status.ts';
import type { NamespaceLookup, PolicyLookup } from './lookups.ts';

export interface AdmissionDeps {
  namespaces: NamespaceLookup;
  policies: PolicyLookup;
  options: InjectOptions;
  /** The controller's own namespace: never injected. */
  controllerNamespace: string;
}

export type PodOutcome =
  | { result: 'skipped'; reason: SkipReason }
  | { result: 'injected'; reason: InjectReason; pod: V1Pod; status: InjectionStatus; warnings: string[] }
  | {
      result: 'denied';
      code: typeof ERROR_CODES.INVALID_OVERRIDE | typeof ERROR_CODES.PORT_CONFLICT;
      message: string;
    };

/**
 * Rejects with a ChaperoneError (NAMESPACE_LOOKUP_FAILED, POLICY_LOOKUP_FAILED) when a lookup
 * fails: the controller cannot decide, so the webhook's failurePolicy does.
 */
export async function admitPod(pod: V1Pod, namespace: string, deps: AdmissionDeps): Promise<PodOutcome> {
  try {
    const labels = await deps.namespaces.labels(namespace).catch((err: unknown) => {
      throw new ChaperoneError(ERROR_CODES.NAMESPACE_LOOKUP_FAILED, `cannot read namespace ${namespace}`, {
        cause: err,
      });
    });
    const decision = shouldInject(pod, { name: namespace, labels }, deps.controllerNamespace);
    if (!decision.inject) return { result: 'skipped', reason: decision.reason };

    const policyProviders = await deps.policies
      .providersFor({ namespace, labels: pod.metadata?.labels ?? {} })
      .catch((err: unknown) => {
        throw new ChaperoneError(
          ERROR_CODES.POLICY_LOOKUP_FAILED,
          `cannot read the policies of ${namespace}`,
          {
            cause: err,
          },
        );
      });
    const injected = inject(pod, { ...deps.options, policyProviders });
    return { result: 'injected', reason: decision.reason, ...injected };
  } catch (err) {
    if (err instanceof InvalidOverrideError || err instanceof PortConflictError) {
      const code =
        err instanceof InvalidOverrideError ? ERROR_CODES.INVALID_OVERRIDE : ERROR_CODES.PORT_CONFLICT;
      return { result: 'denied', code, message: err.message };
    }
    throw err;
  }
}
