// Hot reload of the standalone policy file and secrets directory. Directory watches catch editors'
// atomic replaces and Kubernetes' `..data` symlink swaps; a stat poll backs them up. A change that
// does not load keeps the last good policy in force, and says why.
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedPolicy } from '../proxy/context.ts';
import { loadPolicyFile } from './policy-file.ts';
import type { PolicyStore } from './store.ts';

export interface WatchOptions {
  file: string;
  secretsDir: string | undefined;
  store: PolicyStore;
  logger: Logger;
  onOutcome?: (outcome: 'applied' | 'rejected') => void;
  debounceMs?: number;
  pollMs?: number;
}

export interface PolicyWatch {
  /** Re-reads now (also what the watches trigger). */
  reload(): Promise<void>;
  /** Reloads run so far: each reads the file and the keys. */
  readonly reloads: number;
  close(): void;
}

function sameAs(current: LoadedPolicy | null, next: LoadedPolicy): boolean {
  if (!current || current.policy.fingerprint !== next.policy.fingerprint) return false;
  const a = current.credentials.secretValues();
  const b = next.credentials.secretValues();
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function watchPolicyFile(options: WatchOptions): PolicyWatch {
  const { file, secretsDir, store, logger } = options;
  const debounceMs = options.debounceMs ?? 100;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  let reloads = 0;
  const reload = (): Promise<void> => {
    running = running.then(async () => {
      reloads++;
      const result = await loadPolicyFile(file, secretsDir);
      if (!result.ok) {
        store.reject(result.message, file);
        options.onOutcome?.('rejected');
        logger.error(
          { event: 'policy_rejected', source: file, generation: store.generation, reason: result.message },
          `policy update refused, generation ${store.generation} stays in force`,
        );
        logger.flush();
        return;
      }
      if (sameAs(store.current(), result.loaded)) return;
      store.apply(result.loaded, file);
      options.onOutcome?.('applied');
      logger.info(
        {
          event: 'policy_applied',
          source: file,
          policy: result.loaded.policy.name,
          generation: store.generation,
          fingerprint: result.loaded.policy.fingerprint.slice(0, 12),
        },
        `policy ${result.loaded.policy.name} applied (generation ${store.generation})`,
      );
      // Lifecycle lines go out at once, not with the next batch of audit lines.
      logger.flush();
    });
    return running;
  };

  const schedule = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  };

  const watchers: FSWatcher[] = [];
  const tryWatch = (
    path: string,
    recursive: boolean,
    counts: (changed: string | null) => boolean = () => true,
  ): void => {
    try {
      const watcher = watch(path, { recursive, persistent: false }, (_event, changed) => {
        if (counts(changed)) schedule();
      });
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    } catch (err) {
      logger.warn({ path, err: (err as Error).message }, 'cannot watch; relying on polling');
    }
  };
  // The policy's directory may hold other busy files (logs, say): only the policy itself and the
  // `..data` swap of a mounted ConfigMap count. The secrets directory is all secrets.
  const name = basename(file);
  tryWatch(
    dirname(file),
    false,
    (changed) => changed === null || changed === name || changed.startsWith('..'),
  );
  if (secretsDir !== undefined) tryWatch(secretsDir, true);
  watchFile(file, { interval: options.pollMs ?? 2000, persistent: false }, schedule);

  return {
    reload,
    get reloads() {
      return reloads;
    },
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
      unwatchFile(file);
    },
  };
}
