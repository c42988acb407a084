// Starts a local cluster in the background (a detached supervisor process) and stops it again.
// Used by `make cluster-up` / `make cluster-down` and by the jest global setup, so users and tests
// get the very same cluster.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { COMPONENTS, type Ports } from './layout.ts';
import { isAlive, stopPid, tail } from './processes.ts';
import { readState, type ClusterState, type SuperviseOptions, type SupervisorMessage } from './state.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const DEFAULT_STATE_DIR = join(REPO_ROOT, '.cluster');
export const DEFAULT_BIN_DIR = join(REPO_ROOT, 'bin');
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/**
 * A new folder under .cache for one run's scratch state. .cache exists only once something was
 * installed there (Node, when the system's is older than 24), so a fresh clone may not have it.
 */
export function scratchDir(prefix: string): string {
  mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
  return mkdtempSync(join(REPO_ROOT, '.cache', prefix));
}

export type ClusterErrorCode =
  'BINARY_MISSING' | 'ALREADY_RUNNING' | 'PORT_IN_USE' | 'START_FAILED' | 'START_TIMEOUT';

export class ClusterError extends Error {
  readonly code: ClusterErrorCode;
  constructor(code: ClusterErrorCode, message: string) {
    super(message);
    this.name = 'ClusterError';
    this.code = code;
  }
}

export interface UpOptions {
  stateDir?: string;
  binDir?: string;
  /** Fixed ports; any left out is a random free port on 127.0.0.1. */
  ports?: Partial<Ports>;
  watchPid?: number;
  timeoutMs?: number;
}

const PORT_NAMES: Record<keyof Ports, string> = {
  etcdClient: 'etcd client',
  etcdPeer: 'etcd peer',
  apiserver: 'kube-apiserver',
  controllerManager: 'kube-controller-manager',
};

/** Resolves with the port when 127.0.0.1:port can be bound (0 picks a free one), else null. */
function tryBind(port: number): Promise<number | null> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolvePort(bound));
    });
  });
}

async function choosePorts(fixed: Partial<Ports>): Promise<Ports> {
  const ports: Partial<Ports> = {};
  const taken = new Set<number>();
  for (const key of Object.keys(PORT_NAMES) as (keyof Ports)[]) {
    const wanted = fixed[key];
    if (wanted !== undefined) {
      if ((await tryBind(wanted)) === null || taken.has(wanted)) {
        throw new ClusterError(
          'PORT_IN_USE',
          `port ${wanted} for the ${PORT_NAMES[key]} is already in use on 127.0.0.1; choose another or leave it unset for a random free port`,
        );
      }
      ports[key] = wanted;
    } else {
      let port: number | null;
      do port = await tryBind(0);
      while (port === null || taken.has(port));
      ports[key] = port;
    }
    taken.add(ports[key]);
  }
  return ports as Ports;
}

/** The running cluster recorded in `stateDir`, or undefined (stale records are cleaned up). */
export async function runningCluster(stateDir = DEFAULT_STATE_DIR): Promise<ClusterState | undefined> {
  const state = readState(join(stateDir, 'state.json'));
  if (!state) return undefined;
  if (isAlive(state.supervisorPid)) return state;
  // The supervisor died without cleaning up (SIGKILL, machine restart): finish its job.
  await Promise.all(Object.values(state.pids).map((pid) => stopPid(pid, 5000)));
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(join(stateDir, 'state.json'), { force: true });
  rmSync(state.kubeconfig, { force: true });
  return undefined;
}

export async function clusterUp(options: UpOptions = {}): Promise<ClusterState> {
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const binDir = options.binDir ?? DEFAULT_BIN_DIR;
  const timeoutMs = options.timeoutMs ?? 90_000;

  const missing = COMPONENTS.filter((c) => !existsSync(join(binDir, c)));
  if (missing.length > 0) {
    throw new ClusterError(
      'BINARY_MISSING',
      `missing ${missing.map((c) => join(binDir, c)).join(', ')}: build them with \`make tools\``,
    );
  }
  const running = await runningCluster(stateDir);
  if (running) {
    throw new ClusterError(
      'ALREADY_RUNNING',
      `a cluster is already running from ${stateDir} (supervisor pid ${running.supervisorPid}, ${running.server}); stop it with \`make cluster-down\``,
    );
  }
  const ports = await choosePorts(options.ports ?? {});

  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const logFile = join(stateDir, 'logs', 'supervisor.log');
  const fd = openSync(logFile, 'w');
  const superviseOptions: SuperviseOptions = {
    stateDir,
    binDir,
    ports,
    timeoutMs,
    ...(options.watchPid !== undefined && { watchPid: options.watchPid }),
  };
  const child = spawn(process.execPath, [MAIN, 'supervise', JSON.stringify(superviseOptions)], {
    detached: true, // its own process group: it outlives `make cluster-up`
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);

  const outcome = await new Promise<
    SupervisorMessage | { type: 'exited'; code: number | null } | { type: 'timeout' }
  >((done) => {
    const timer = setTimeout(() => done({ type: 'timeout' }), timeoutMs + 15_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      done(m as SupervisorMessage);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ type: 'exited', code });
    });
  });
  child.removeAllListeners();
  if (child.connected) child.disconnect();
  child.unref();

  switch (outcome.type) {
    case 'ready':
      return outcome.state;
    case 'failed':
      await waitExit(child.pid!);
      throw new ClusterError(
        'START_FAILED',
        `the cluster did not start: ${outcome.error}\n(logs: ${join(stateDir, 'logs')})`,
      );
    case 'exited':
      throw new ClusterError(
        'START_FAILED',
        `the cluster supervisor exited (${outcome.code}) before the cluster was ready:\n${tail(logFile)}`,
      );
    case 'timeout':
      killGroup(child.pid!);
      throw new ClusterError(
        'START_TIMEOUT',
        `the cluster was not ready within ${timeoutMs} ms (logs: ${join(stateDir, 'logs')})`,
      );
  }
}

async function waitExit(pid: number, ms = 45_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Stops the cluster recorded in `stateDir`. Returns false when there was none (a no-op). */
export async function clusterDown(stateDir = DEFAULT_STATE_DIR): Promise<boolean> {
  const state = await runningCluster(stateDir);
  if (!state) return false;
  process.kill(state.supervisorPid, 'SIGTERM');
  await waitExit(state.supervisorPid);
  // Whatever is still there after the supervisor's orderly stop gets killed outright.
  killGroup(state.supervisorPid);
  await Promise.all(Object.values(state.pids).map((pid) => stopPid(pid, 2000)));
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(join(stateDir, 'state.json'), { force: true });
  return true;
}
