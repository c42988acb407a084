// Builds the bundle for one pod: the accepted policies of its namespace whose podSelector matches
// its labels, in name order, with the Secret values they reference. Pure.
import { createHash } from 'node:crypto';
import { secretKey, type BundlePolicy, type PolicyBundle } from '../../../api/src/bundle.ts';
import { selectorMatches } from './selector.ts';

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
}

/** Looks up `<secret>/<key>` in the pod's namespace; undefined when absent. */
export type SecretValues = (namespace: string, name: string, key: string) => string | undefined;

export function selectPolicies(policies: readonly BundlePolicy[], pod: PodRef): BundlePolicy[] {
  return policies
    .filter((p) => selectorMatches(p.spec.podSelector, pod.labels))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function referencedSecrets(policies: readonly BundlePolicy[]): { name: string; key: string }[] {
  const refs = new Map<string, { name: string; key: string }>();
  for (const policy of policies) {
    for (const provider of policy.spec.providers) {
      const ref = provider.credentials.secretRef;
      if (ref) refs.set(secretKey(ref.name, ref.key), { name: ref.name, key: ref.key });
    }
  }
  return [...refs.values()];
}

export function buildBundle(
  pod: PodRef,
  namespacePolicies: readonly BundlePolicy[],
  secretValues: SecretValues,
): PolicyBundle {
  const policies = selectPolicies(namespacePolicies, pod);
  const secrets: Record<string, string> = {};
  const missingSecrets: string[] = [];
  for (const { name, key } of referencedSecrets(policies)) {
    const value = secretValues(pod.namespace, name, key);
    if (value === undefined) missingSecrets.push(secretKey(name, key));
    else secrets[secretKey(name, key)] = value;
  }
  // The revision covers Secret values (hashed, never shown) so a rotated key is pushed too.
  const revision = createHash('sha256')
    .update(JSON.stringify({ policies, secrets, missingSecrets }))
    .digest('hex')
    .slice(0, 16);
  return { revision, namespace: pod.namespace, pod: pod.name, policies, secrets, missingSecrets };
}
