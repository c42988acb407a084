// A client-node informer that relists and rewatches after errors (ListWatch reports failures
// through 'error' and then stops), with a capped, jittered backoff.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../log.ts';

export interface Watched<T extends k8s.KubernetesObject> {
  informer: k8s.Informer<T> & k8s.ObjectCache<T>;
  start(): Promise<void>;
  stop(): Promise<void>;
  synced(): boolean;
}

export function restartingInformer<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: k8s.ListPromise<T>,
  what: string,
  logger: Logger,
): Watched<T> {
  const informer = k8s.makeInformer<T>(kc, path, list);
  let synced = false;
  let stopped = false;
  let failures = 0;
  let restart: NodeJS.Timeout | undefined;

  const run = async (): Promise<void> => {
    const before = failures;
    await informer.start();
    if (failures === before) {
      if (!synced) logger.info({ what, objects: informer.list().length }, 'watch synced');
      synced = true;
      failures = 0;
    }
  };
  informer.on('error', (err: unknown) => {
    failures += 1;
    if (stopped) return;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
    logger.warn({ what, err: String(err), retryInMs: Math.round(delay) }, 'watch failed; relisting');
    clearTimeout(restart);
    restart = setTimeout(() => void run().catch(() => undefined), delay);
    restart.unref();
  });
  return {
    informer,
    start: run,
    async stop() {
      stopped = true;
      clearTimeout(restart);
      await informer.stop();
    },
    synced: () => synced,
  };
}
