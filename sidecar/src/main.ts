#!/usr/bin/env node
// chaperone-proxy: reads flags and env (fail fast), loads the policy, starts the listeners, reloads
// on change, stops on SIGTERM/SIGINT. Everything else lives in the modules it wires.
import { CHAPERONE_VERSION, SIDECAR_ENV } from '../../api/src/injection.ts';
import { createLogger, type Logger } from './audit/log.ts';
import { USAGE, readOptions, type Options } from './config/options.ts';
import { loadPolicyFile } from './config/policy-file.ts';
import { PolicyStore } from './config/store.ts';
import { watchPolicyFile, type PolicyWatch } from './config/watch.ts';
import { startSidecar } from './sidecar.ts';

let logger: Logger | undefined;

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
  const log = createLogger({ level: options.logLevel, base });
  logger = log;
  const store = new PolicyStore();
  let watcher: PolicyWatch | undefined;
  if (options.policy !== undefined) {
    const first = await loadPolicyFile(options.policy, options.secretsDir);
    if (!first.ok) {
      log.fatal(
        { event: 'policy_rejected', source: options.policy, reason: first.message },
        'cannot start: the policy does not load',
      );
      return 1;
    }
    store.apply(first.loaded, options.policy);
  } else {
    log.warn(
      { event: 'no_policy_source' },
      'no --policy given and this build has no controller client: every request is refused (POLICY_NOT_LOADED)',
    );
  }
  const sidecar = await startSidecar({ store, logger: log, listen: options.listen });
  if (options.policy !== undefined) {
    watcher = watchPolicyFile({
      file: options.policy,
      secretsDir: options.secretsDir,
      store,
      logger: log,
      onOutcome: (outcome) => sidecar.metrics.policyReload(outcome),
    });
  }
  log.info(
    {
      event: 'listening',
      version: CHAPERONE_VERSION,
      ports: sidecar.ports,
      policy: store.current()?.policy.name ?? null,
      generation: store.generation,
    },
    `chaperone-proxy ${CHAPERONE_VERSION} listening: providers :${sidecar.ports.providers}, proxy :${sidecar.ports.forwardProxy}, admin :${sidecar.ports.admin}`,
  );
  log.flush();
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info({ event: 'stopping', signal }, `stopping on ${signal}`);
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
    // Let the buffered, asynchronous log destination drain before exiting.
    process.exitCode = code;
    logger?.flush(() => setTimeout(() => process.exit(code), 20));
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`chaperone-proxy: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
