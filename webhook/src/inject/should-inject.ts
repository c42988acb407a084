// Whether a pod gets the sidecar. Pure: the namespace's labels are looked up by the caller.
import type { V1Pod } from '@kubernetes/client-node';
import { INJECTION_ANNOTATIONS, NAMESPACE_INJECTION } from '../../../api/src/injection.ts';
import { LABELS } from '../../../api/src/names.ts';
import { InvalidOverrideError } from '../errors.ts';
import { INJECT_REASONS, SKIP_REASONS, type InjectReason, type SkipReason } from './reasons.ts';

export interface NamespaceInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export type InjectDecision = { inject: true; reason: InjectReason } | { inject: false; reason: SkipReason };

/**
 * In order: kube-system and the controller's own namespace are never injected; an explicit
 * `chaperone.dev/inject: "false"` always wins; a namespace labelled `chaperone.dev/injection:
 * disabled` is off; then the pod annotation `"true"` or the namespace label `enabled` opts in.
 * Host-network pods are skipped (the sidecar's loopback ports would be the node's).
 * Throws InvalidOverrideError when the inject annotation is neither "true" nor "false".
 */
export function shouldInject(
  pod: V1Pod,
  namespace: NamespaceInfo,
  controllerNamespace: string,
): InjectDecision {
  if (namespace.name === 'kube-system') return { inject: false, reason: SKIP_REASONS.KUBE_SYSTEM_NAMESPACE };
  if (namespace.name === controllerNamespace)
    return { inject: false, reason: SKIP_REASONS.CONTROLLER_NAMESPACE };

  const annotation = pod.metadata?.annotations?.[INJECTION_ANNOTATIONS.inject];
  if (annotation !== undefined && annotation !== 'true' && annotation !== 'false') {
    throw new InvalidOverrideError(
      INJECTION_ANNOTATIONS.inject,
      `must be "true" or "false", got ${JSON.stringify(annotation)}`,
    );
  }
  if (annotation === 'false') return { inject: false, reason: SKIP_REASONS.POD_OPTED_OUT };

  const label = namespace.labels[LABELS.namespaceInjection];
  if (label === NAMESPACE_INJECTION.disabled)
    return { inject: false, reason: SKIP_REASONS.NAMESPACE_DISABLED };

  let decision: InjectDecision;
  if (annotation === 'true') decision = { inject: true, reason: INJECT_REASONS.POD_OPTED_IN };
  else if (label === NAMESPACE_INJECTION.enabled)
    decision = { inject: true, reason: INJECT_REASONS.NAMESPACE_OPTED_IN };
  else return { inject: false, reason: SKIP_REASONS.NOT_OPTED_IN };

  if (pod.spec?.hostNetwork === true) return { inject: false, reason: SKIP_REASONS.HOST_NETWORK };
  return decision;
}
