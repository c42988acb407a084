#!/usr/bin/env node
// chaperone-proxy: reads flags and env (fail fast), loads the policy, starts the listeners, reloads
// on change, stops on SIGTERM/SIGINT. Everything else lives in the modules it wires.
import { CHAPERONE_VERSION, SIDECAR_ENV } from '../../api/src/injection.ts';
import { createLogger } from './audit/log.ts';
import { USAGE, readOptions, type Options } from './config/options.ts';
import { loadPolicyFile } from './config/policy-file.ts';
import { PolicyStore } from './config/store.ts';
import { watchPolicyFile, type PolicyWatch } from './config/watch.ts';
import { startSidecar } from './sidecar.ts';

async function main(): Promise<number> {
  let options: Options;
  try {
    options = readOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`chaperone-proxy: ${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${CHAPERONE_VERSION}\n`);
    return 0;
  }
  const env = process.env;
  const base: Record<string, string> = {};
  if (env[SIDECAR_ENV.podNamespace]) base.namespace = env[SIDECAR_ENV.podNamespace]!;
  if (env[SIDECAR_ENV.podName]) base.pod = env[SIDECAR_ENV.podName]!;
  if (env[SIDECAR_ENV.serviceAccount]) base.serviceAccount = env[SIDECAR_ENV.serviceAccount]!;
  const logger = createLogger({ level: options.logLevel, base });
  const store = new PolicyStore();
  let watcher: PolicyWatch | undefined;
  if (options.policy !== undefined) {
    const first = await loadPolicyFile(options.policy, options.secretsDir);
    if (!first.ok) {
      logger.fatal(
        { event: 'policy_rejected', source: options.policy, reason: first.message },
        'cannot start: the policy does not load',
      );
      logger.flush();
      return 1;
    }
    store.apply(first.loaded, options.policy);
  } else {
    logger.warn(
      { event: 'no_policy_source' },
      'no --policy given and this build has no controller client: every request is refused (POLICY_NOT_LOADED)',
    );
  }
  const sidecar = await startSidecar({ store, logger, listen: options.listen });
  if (options.policy !== undefined) {
    watcher = watchPolicyFile({
      file: options.policy,
      secretsDir: options.secretsDir,
      store,
      logger,
      onOutcome: (outcome) => sidecar.metrics.policyReload(outcome),
    });
  }
  logger.info(
    {
      event: 'listening',
      version: CHAPERONE_VERSION,
      ports: sidecar.ports,
      policy: store.current()?.policy.name ?? null,
      generation: store.generation,
    },
    `chaperone-proxy ${CHAPERONE_VERSION} listening: providers :${sidecar.ports.providers}, proxy :${sidecar.ports.forwardProxy}, admin :${sidecar.ports.admin}`,
  );
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ event: 'stopping', signal }, `stopping on ${signal}`);
      watcher?.close();
      const deadline = setTimeout(() => resolve(0), 5000);
      void sidecar.close().then(() => {
        clearTimeout(deadline);
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => {
    // Let the asynchronous log destination drain before exiting.
    setTimeout(() => process.exit(code), 50).unref();
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`chaperone-proxy: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
