// What admission needs to know beyond the AdmissionReview: the namespace's labels (for the
// namespace opt-in) and the providers named by the AIProviderPolicies that select the pod.
import type { PolicyProviderRef } from '../inject/settings.ts';

export interface NamespaceLookup {
  /** The namespace's labels ({} when it does not exist). Rejects when they cannot be read. */
  labels(namespace: string): Promise<Readonly<Record<string, string>>>;
}

export interface PodIdentity {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

export interface PolicyLookup {
  /**
   * Providers named by the policies of `pod.namespace` whose podSelector matches `pod.labels`, in
   * policy order, with the token audiences their workload identity needs.
   */
  providersFor(pod: PodIdentity): Promise<readonly PolicyProviderRef[]>;
}

export const noPolicies: PolicyLookup = {
  providersFor: () => Promise.resolve([]),
};

/** Fixed namespace labels: for tests, the benchmark and golden files. */
export function staticNamespaces(
  labels: Readonly<Record<string, Readonly<Record<string, string>>>>,
): NamespaceLookup {
  return { labels: (namespace) => Promise.resolve(labels[namespace] ?? {}) };
}

/** Fixed providers per namespace (every pod in it is selected): for tests and golden files. */
export function staticPolicies(
  providers: Readonly<Record<string, readonly PolicyProviderRef[]>>,
): PolicyLookup {
  return { providersFor: (pod) => Promise.resolve(providers[pod.namespace] ?? []) };
}
