// Runs one local control plane in the foreground: writes its PKI, starts etcd, kube-apiserver and
// kube-controller-manager in order, waits until each is ready, then watches them. Any component
// exiting, SIGTERM/SIGINT, or the watched parent disappearing shuts everything down in reverse order
// and removes the temporary data folder.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENTS, PKI_FILES, apiserverUrl, clusterPaths, commandLines, type Component } from './layout.ts';
import type { ClusterPaths } from './layout.ts';
import { renderKubeconfig } from './kubeconfig.ts';
import { createClusterPki, type ClusterPki } from './pki.ts';
import { get, waitFor, type TlsClient } from './probes.ts';
import { isAlive, startLogged, stopPid, tail, type Started } from './processes.ts';
import type { ClusterState, SuperviseOptions, SupervisorMessage } from './state.ts';

const STOP_GRACE_MS = 10_000;

function writePki(paths: ClusterPaths, pki: ClusterPki, server: string): void {
  mkdirSync(paths.pkiDir, { recursive: true, mode: 0o700 });
  const files: Record<keyof typeof PKI_FILES, string> = {
    caCert: pki.ca.cert,
    caKey: pki.ca.key,
    apiserverCert: pki.apiserver.cert,
    apiserverKey: pki.apiserver.key,
    adminCert: pki.admin.cert,
    adminKey: pki.admin.key,
    controllerManagerCert: pki.controllerManager.cert,
    controllerManagerKey: pki.controllerManager.key,
    serviceAccountPublicKey: pki.serviceAccount.publicKey,
    serviceAccountPrivateKey: pki.serviceAccount.privateKey,
    controllerManagerKubeconfig: renderKubeconfig(
      server,
      pki.ca.cert,
      'system:kube-controller-manager',
      pki.controllerManager,
    ),
  };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(paths.pkiDir, PKI_FILES[name as keyof typeof PKI_FILES]), content, { mode: 0o600 });
  }
}

function binaryVersion(binary: string): string {
  try {
    return (
      execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 5000 }).trim().split('\n')[0] ?? ''
    );
  } catch {
    return 'unknown';
  }
}

export async function supervise(
  options: SuperviseOptions,
  report: (m: SupervisorMessage) => void,
): Promise<number> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const dataDir = mkdtempSync(join(tmpdir(), 'chaperone-cluster-'));
  const paths = clusterPaths(options.stateDir, dataDir, options.binDir);
  const server = apiserverUrl(options.ports);
  const running: Started[] = [];
  let stopping = false;

  mkdirSync(paths.logDir, { recursive: true });

  const shutdown = async (exitCode: number): Promise<number> => {
    stopping = true;
    for (const proc of [...running].reverse()) {
      if (proc.child.pid !== undefined) await stopPid(proc.child.pid, STOP_GRACE_MS);
    }
    rmSync(paths.dataDir, { recursive: true, force: true });
    rmSync(paths.stateFile, { force: true });
    rmSync(paths.kubeconfig, { force: true });
    return exitCode;
  };

  // Settles with a reason the first time any started component exits.
  let componentDied: (reason: string) => void = () => {};
  const anyExit = new Promise<string>((resolve) => (componentDied = resolve));
  const start = (component: Component): Started => {
    const logFile = join(paths.logDir, `${component}.log`);
    const proc = startLogged(
      component,
      join(paths.binDir, component),
      commandLines(paths, options.ports)[component],
      logFile,
    );
    running.push(proc);
    void proc.exited.then((code) => {
      if (!stopping)
        componentDied(`${component} exited (${code}); last lines of ${logFile}:\n${tail(logFile)}`);
    });
    return proc;
  };

  try {
    const pki = await createClusterPki();
    writePki(paths, pki, server);
    const admin: TlsClient = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };

    start('etcd');
    await waitFor(
      'etcd',
      async () => (await get(`http://127.0.0.1:${options.ports.etcdClient}/health`)).body.includes('"true"'),
      deadline,
      anyExit,
    );

    start('kube-apiserver');
    await waitFor(
      'kube-apiserver',
      async () => (await get(`${server}/readyz`, admin)).status === 200,
      deadline,
      anyExit,
    );
    writeFileSync(paths.kubeconfig, renderKubeconfig(server, pki.ca.cert, 'chaperone-admin', pki.admin), {
      mode: 0o600,
    });

    start('kube-controller-manager');
    const kcmHealth = `https://127.0.0.1:${options.ports.controllerManager}/healthz`;
    await waitFor(
      'kube-controller-manager',
      async () => (await get(kcmHealth, { insecure: true })).status === 200,
      deadline,
      anyExit,
    );
    // The service-account controller creating "default" proves the controllers are really running.
    await waitFor(
      'kube-controller-manager (service-account controller)',
      async () =>
        (await get(`${server}/api/v1/namespaces/default/serviceaccounts/default`, admin)).status === 200,
      deadline,
      anyExit,
    );

    const state: ClusterState = {
      supervisorPid: process.pid,
      pids: Object.fromEntries(running.map((p) => [p.name, p.child.pid ?? -1])) as Record<Component, number>,
      ports: options.ports,
      server,
      kubeconfig: paths.kubeconfig,
      stateDir: paths.stateDir,
      dataDir,
      logDir: paths.logDir,
      startedAt: new Date(started).toISOString(),
      readyAfterMs: Date.now() - started,
      versions: Object.fromEntries(
        COMPONENTS.map((c) => [c, binaryVersion(join(paths.binDir, c))]),
      ) as Record<Component, string>,
    };
    writeFileSync(paths.stateFile, JSON.stringify(state, null, 2));
    report({ type: 'ready', state });
  } catch (err) {
    report({ type: 'failed', error: (err as Error).message });
    return shutdown(1);
  }

  // Running: wait for the first reason to stop.
  const reason = await new Promise<{ why: string; code: number }>((resolve) => {
    const onSignal = (signal: string): void => resolve({ why: `received ${signal}`, code: 0 });
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    void anyExit.then((why) => resolve({ why, code: 1 }));
    if (options.watchPid !== undefined) {
      const watched = options.watchPid;
      setInterval(() => {
        if (!isAlive(watched)) resolve({ why: `parent process ${watched} is gone`, code: 0 });
      }, 1000).unref();
    }
  });
  console.error(`supervisor: stopping the cluster: ${reason.why}`);
  return shutdown(reason.code);
}
