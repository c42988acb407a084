#!/usr/bin/env node
// chaperone-controller: wires configuration, the namespace cache, the admission app and the HTTPS
// server with certificate reload; stops cleanly on SIGTERM/SIGINT. Exit codes: 0 done, 1 runtime
// failure, 2 bad configuration.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CHAPERONE_VERSION } from '../../api/src/injection.ts';
import { USAGE, parseConfig, type ControllerConfig } from './config.ts';
import { ControlPlane } from './control/control-plane.ts';
import { LeaseCoordinator } from './control/leases.ts';
import { controllerMetrics } from './control/metrics.ts';
import { ChaperoneError, ConfigError } from './errors.ts';
import { namespaceCache } from './kube/namespaces.ts';
import { createLogger } from './log.ts';
import { createApp } from './server/app.ts';
import { startHttpsServer, type HttpsHandle } from './server/https.ts';
import { loadTlsMaterial, watchTlsFiles, type TlsMaterial } from './server/tls.ts';
import { CertificateManager } from './tls/manager.ts';
import { serviceDnsNames } from './tls/rotation.ts';

const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function fail(err: unknown): number {
  const code = err instanceof ChaperoneError ? err.code : 'ERROR';
  process.stderr.write(`chaperone-controller: ${code}: ${(err as Error).message}\n`);
  return err instanceof ConfigError || (err instanceof ChaperoneError && err.code === 'TLS_INVALID') ? 2 : 1;
}

function loadKubeConfig(config: ControllerConfig): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromCluster();
  } catch (err) {
    throw new ConfigError(
      `cannot load kubeconfig ${config.kubeconfig ?? '(in-cluster)'}: ${(err as Error).message}`,
    );
  }
  if (!kc.getCurrentCluster())
    throw new ConfigError(`kubeconfig ${config.kubeconfig ?? ''} has no current cluster`);
  return kc;
}

async function main(): Promise<number> {
  let config: ControllerConfig;
  let kc: k8s.KubeConfig;
  let tls: TlsMaterial;
  try {
    const parsed = parseConfig({
      argv: process.argv.slice(2),
      env: process.env,
      podNamespace: readOptional(POD_NAMESPACE_FILE),
    });
    if (parsed.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    config = parsed.config;
    tls = loadTlsMaterial(config.tlsCert, config.tlsKey);
    kc = loadKubeConfig(config);
  } catch (err) {
    return fail(err);
  }

  const logger = createLogger(config.logLevel);
  const namespaces = namespaceCache(kc, logger);
  const coordination = config.leaderElect
    ? new LeaseCoordinator({ kc, namespace: config.namespace, identity: config.identity, logger })
    : undefined;
  const controlPlane = new ControlPlane({
    kc,
    logger,
    identity: config.identity,
    ...(coordination && { coordination }),
  });
  const metrics = controllerMetrics(controlPlane, () => coordination?.isLeader() ?? true);
  const app = createApp({
    deps: {
      namespaces,
      policies: controlPlane.policyLookup,
      options: config.inject,
      controllerNamespace: config.namespace,
    },
    logger,
    maxBodyBytes: config.maxBodyBytes,
    routers: [controlPlane.router, metrics.router],
    onAdmission: (durationMs, decision) => metrics.observeAdmission(durationMs, decision),
    isReady: () => namespaces.synced() && controlPlane.synced(),
  });

  let https: HttpsHandle;
  try {
    https = await startHttpsServer(app, tls, config.listen.host, config.listen.port);
  } catch (err) {
    return fail(err);
  }
  // The CA sidecars get at injection to trust the policy stream: the TLS Secret's ca.crt.
  const caFile = config.controllerCaFile ?? join(dirname(config.tlsCert), 'ca.crt');
  const loadControllerCa = (): void => {
    const pem = readOptional(caFile);
    if (pem?.includes('BEGIN CERTIFICATE')) config.inject.controllerCa = pem;
    else if (config.controllerCaFile)
      logger.warn({ file: caFile }, 'controller CA file unreadable; sidecars use system roots');
  };
  loadControllerCa();
  const watcher = watchTlsFiles({
    certFile: config.tlsCert,
    keyFile: config.tlsKey,
    initial: tls,
    pollIntervalMs: config.tlsPollSeconds * 1000,
    onChange(material) {
      https.setTls(material);
      loadControllerCa();
      logger.info(
        { fingerprint: material.fingerprint, notAfter: material.notAfter },
        'serving certificate reloaded',
      );
    },
    onError(error) {
      logger.warn({ code: error.code }, `keeping the current certificate: ${error.message}`);
    },
  });
  logger.info(
    {
      host: https.host,
      port: https.port,
      version: CHAPERONE_VERSION,
      namespace: config.namespace,
      sidecarMode: config.inject.sidecarMode,
      image: config.inject.image,
      fingerprint: tls.fingerprint,
      notAfter: tls.notAfter,
    },
    'listening',
  );
  // Without cert-manager, this controller renews its generated certificate and the webhook's caBundle.
  const certificates =
    config.certificates &&
    new CertificateManager({
      kc,
      namespace: config.namespace,
      ...config.certificates,
      fallbackDnsNames: serviceDnsNames(
        new URL(config.inject.controllerUrl).hostname,
        config.inject.clusterDomain,
      ),
      logger,
    });
  certificates?.start();
  namespaces
    .start()
    .catch((err: unknown) => logger.error({ err: String(err) }, 'namespace cache failed to start'));
  // Readiness stays false until the policy and pod watches have synced.
  controlPlane
    .start()
    .then(() => coordination?.start())
    .catch((err: unknown) => logger.error({ err: String(err) }, 'control plane failed to start'));

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down');
      watcher.close();
      // Sidecar streams end first (they reconnect to another replica at once), then the server
      // drains in-flight admissions.
      void Promise.all([controlPlane.stop(), coordination?.stop(), certificates?.stop()])
        .then(() => Promise.all([https.close(), namespaces.stop()]))
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

process.exitCode = await main();
