#!/usr/bin/env -S node --max-semi-space-size=8 --min-semi-space-size=8 --no-memory-reducer-favors-memory
// chaperone-proxy: reads flags and env (fail fast), loads the policy, starts the listeners, reloads
// on change, stops on SIGTERM/SIGINT. Everything else lives in the modules it wires.
import { CHAPERONE_VERSION, SIDECAR_ENV } from '../../api/src/injection.ts';
import { createLogger, type Logger } from './audit/log.ts';
import { USAGE, readOptions, type Options } from './config/options.ts';
import { loadPolicyFile } from './config/policy-file.ts';
import { PolicyStore } from './config/store.ts';
import { watchPolicyFile, type PolicyWatch } from './config/watch.ts';
import { startSidecar } from './sidecar.ts';
import type { ControlClient } from './control/client.ts';
import { RefusalReporter } from './control/reporter.ts';
import { systemResolver, type Resolver } from './egress/resolver.ts';
import { isIP } from 'node:net';
import { lowerBackgroundThreads } from './runtime/background-threads.ts';
import { trimStartupPages } from './runtime/startup-pages.ts';
import { withWorkloadIdentity } from './credentials/identity-credentials.ts';
import type { WorkloadIdentity } from './credentials/workload-identity.ts';

const REPORT_INTERVAL_MS = 5_000;

/** --resolve pins: those names answer with the given address (which is still checked). */
function pinnedResolver(pins: ReadonlyMap<string, string>): Resolver {
  return (host) => {
    const address = pins.get(host);
    return address
      ? Promise.resolve([{ address, family: isIP(address) === 6 ? 6 : 4 }])
      : systemResolver(host);
  };
}

let logger: Logger | undefined;

const mb = (kb: number): string => (kb / 1024).toFixed(1);
// A runtime step that could not be done: expected where there is no /proc (a laptop); in a pod it
// is worth a look.
const NOT_DONE_LEVEL = process.platform === 'linux' ? 'warn' : 'info';

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
  const lowered = lowerBackgroundThreads(options.backgroundNice);
  if (lowered.ok)
    log.debug({ event: 'background_threads', ...lowered }, `V8 worker threads at nice ${lowered.nice}`);
  else
    log[NOT_DONE_LEVEL](
      { event: 'background_threads', ...lowered },
      `V8 worker threads left at their priority: ${lowered.reason}`,
    );
  const resolver = options.resolve.size > 0 ? pinnedResolver(options.resolve) : undefined;
  // Workload identity needs projected tokens: in a pod the webhook mounts them (CHAPERONE_TOKEN_FILES).
  // Loaded only then (with jose, the token cache and the token endpoints' pools), as the controller
  // client below: code a configuration does not use is not in the sidecar's memory.
  let identity: WorkloadIdentity | undefined;
  if (options.identityTokens.size > 0) {
    const { WorkloadIdentity } = await import('./credentials/workload-identity.ts');
    identity = new WorkloadIdentity({
      tokenFiles: options.identityTokens,
      resolver: resolver ?? systemResolver,
      sessionName: env[SIDECAR_ENV.podName] ?? 'standalone',
      logger: log.child({ component: 'identity' }),
    });
    identity.startHealthChecks();
  }
  const workload = {
    namespace: env[SIDECAR_ENV.podNamespace],
    serviceAccount: env[SIDECAR_ENV.serviceAccount],
  };
  const store = new PolicyStore({ prepare: (loaded) => withWorkloadIdentity(loaded, identity, workload) });
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
  } else if (options.controller === undefined) {
    log.warn(
      { event: 'no_policy_source' },
      'neither --policy nor --controller-url: every request is refused (POLICY_NOT_LOADED)',
    );
  }
  const reporter = new RefusalReporter();
  const sidecar = await startSidecar({
    store,
    logger: log,
    listen: options.listen,
    ...(resolver && { resolver }),
    onExchange: (exchange) => reporter.observe(exchange),
  });
  let control: ControlClient | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  if (options.controller !== undefined) {
    const source = `controller ${options.controller.url}`;
    const [{ ControlClient }, { loadBundle }] = await Promise.all([
      import('./control/client.ts'),
      import('./control/bundle-policy.ts'),
    ]);
    control = new ControlClient({
      url: options.controller.url,
      tokenFile: options.controller.tokenFile,
      pod: options.controller.pod,
      ...(options.controller.ca !== undefined && { ca: options.controller.ca }),
      onBundle: (bundle) => {
        const result = loadBundle(bundle);
        if (!result.ok) {
          store.reject(result.message, source);
          log.error(
            { event: 'policy_rejected', revision: bundle.revision, reason: result.message },
            'bundle refused; the last good policy stays in force',
          );
          return false;
        }
        store.apply(result.loaded, source);
        reporter.useBundle(bundle);
        for (const conflict of result.conflicts)
          log.warn({ event: 'policy_conflict', reason: conflict }, conflict);
        log.info(
          {
            event: 'policy_applied',
            revision: bundle.revision,
            policies: bundle.policies.map((p) => `${p.name}@${p.generation}`),
            missingSecrets: bundle.missingSecrets,
          },
          `bundle ${bundle.revision} in force`,
        );
        return true;
      },
      onStateChange: (state) => {
        if (!state.connected && state.lastError)
          log.warn(
            { event: 'controller_unreachable', reason: state.lastError },
            'controller stream down; the last good policy stays in force',
          );
      },
    });
    control.start();
    reportTimer = setInterval(() => {
      const report = reporter.next(sidecar.breakers());
      void control?.report(report).then((ok) => ok && reporter.delivered(report));
    }, REPORT_INTERVAL_MS);
    reportTimer.unref();
  }
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
  if (options.trimStartupPages) {
    const trimmed = trimStartupPages();
    if (trimmed.ok)
      log.info(
        { event: 'startup_pages', ...trimmed },
        `start-up pages dropped: file-backed RSS ${mb(trimmed.rssFileBeforeKb)} -> ${mb(trimmed.rssFileAfterKb)} MB`,
      );
    else
      log[NOT_DONE_LEVEL](
        { event: 'startup_pages', ...trimmed },
        `start-up pages kept resident: ${trimmed.reason}`,
      );
  }
  log.flush();
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info({ event: 'stopping', signal }, `stopping on ${signal}`);
      watcher?.close();
      clearInterval(reportTimer);
      void control?.stop();
      void identity?.close();
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
