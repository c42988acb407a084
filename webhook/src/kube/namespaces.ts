// Namespace labels from a watch-backed cache (list + watch of namespaces), so admission does not
// call the apiserver per pod. A namespace the cache has not seen yet (just created) is read
// directly. Needs RBAC: get, list, watch on namespaces.
import * as k8s from '@kubernetes/client-node';
import type { NamespaceLookup } from '../admission/lookups.ts';
import type { Logger } from '../log.ts';

export interface NamespaceCache extends NamespaceLookup {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first list has completed. */
  synced(): boolean;
}

const RESTART_DELAY_MS = 2_000;

export function namespaceCache(kc: k8s.KubeConfig, logger: Logger): NamespaceCache {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer<k8s.V1Namespace>(kc, '/api/v1/namespaces', () => core.listNamespace());
  let synced = false;
  let stopped = false;
  let failures = 0;
  let restart: NodeJS.Timeout | undefined;

  // ListWatch.start() resolves even when its list fails (it reports that through 'error'), so a
  // run counts as synced only when no error arrived meanwhile.
  const run = async (): Promise<void> => {
    const before = failures;
    await informer.start();
    if (failures === before && !synced) {
      synced = true;
      logger.info({ namespaces: informer.list().length }, 'namespace cache synced');
    }
  };

  informer.on('error', (err: unknown) => {
    failures += 1;
    if (stopped) return;
    logger.warn({ err: String(err) }, 'namespace watch failed; restarting');
    clearTimeout(restart);
    restart = setTimeout(() => {
      run().catch((e: unknown) => logger.warn({ err: String(e) }, 'namespace watch restart failed'));
    }, RESTART_DELAY_MS);
    restart.unref();
  });

  return {
    start: run,
    async stop() {
      stopped = true;
      clearTimeout(restart);
      await informer.stop();
    },
    synced: () => synced,
    async labels(name) {
      const cached = informer.get(name);
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
