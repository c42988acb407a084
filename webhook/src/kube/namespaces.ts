// Namespace labels from a watch-backed cache (list + watch of namespaces), so admission does not
// call the apiserver per pod. A namespace the cache has not seen yet (just created) is read
// directly. Needs RBAC: get, list, watch on namespaces.
import * as k8s from '@kubernetes/client-node';
import type { NamespaceLookup } from '../admission/lookups.ts';
import type { Logger } from '../log.ts';
import { restartingInformer } from './informer.ts';

export interface NamespaceCache extends NamespaceLookup {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first list has completed. */
  synced(): boolean;
}

export function namespaceCache(kc: k8s.KubeConfig, logger: Logger): NamespaceCache {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const watched = restartingInformer<k8s.V1Namespace>(
    kc,
    '/api/v1/namespaces',
    () => core.listNamespace(),
    'namespaces',
    logger,
  );
  return {
    start: () => watched.start(),
    stop: () => watched.stop(),
    synced: () => watched.synced(),
    async labels(name) {
      const cached = watched.informer.get(name);
      if (cached) return cached.metadata?.labels ?? {};
      try {
        const namespace = await core.readNamespace({ name });
        return namespace.metadata?.labels ?? {};
      } catch (err) {
        if (err instanceof k8s.ApiException && err.code === 404) return {};
        throw err;
      }
    },
  };
}
