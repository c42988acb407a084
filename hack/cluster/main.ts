// The local cluster's command line: `up`, `down`, `status` (for people and the Makefile) and
// `supervise` (internal: the long-running process `up` starts in the background).
import {
  ClusterError,
  clusterDown,
  clusterUp,
  runningCluster,
  DEFAULT_STATE_DIR,
  REPO_ROOT,
} from './launcher.ts';
import { relative } from 'node:path';
import type { Ports } from './layout.ts';
import type { SuperviseOptions } from './state.ts';

const PORT_ENV: Record<keyof Ports, string> = {
  apiserver: 'CHAPERONE_APISERVER_PORT',
  etcdClient: 'CHAPERONE_ETCD_PORT',
  etcdPeer: 'CHAPERONE_ETCD_PEER_PORT',
  controllerManager: 'CHAPERONE_CONTROLLER_MANAGER_PORT',
};

function portsFromEnv(): Partial<Ports> {
  const ports: Partial<Ports> = {};
  for (const [key, name] of Object.entries(PORT_ENV) as [keyof Ports, string][]) {
    const raw = process.env[name];
    if (raw === undefined || raw === '') continue;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`${name}=${raw} is not a port number`);
    ports[key] = port;
  }
  return ports;
}

const stateDir = process.env.CHAPERONE_CLUSTER_DIR ?? DEFAULT_STATE_DIR;
const shown = (p: string): string => relative(process.cwd(), p) || '.';

async function main(command: string | undefined, arg: string | undefined): Promise<number> {
  switch (command) {
    case 'up': {
      const state = await clusterUp({ stateDir, ports: portsFromEnv() });
      console.log(`cluster ready in ${(state.readyAfterMs / 1000).toFixed(1)} s: ${state.server}`);
      console.log(
        `  kubeconfig: ${shown(state.kubeconfig)}   (e.g. bin/kubectl --kubeconfig ${shown(state.kubeconfig)} get ns)`,
      );
      console.log(`  logs:       ${shown(state.logDir)}`);
      console.log(`  stop with:  make cluster-down`);
      return 0;
    }
    case 'down': {
      const stopped = await clusterDown(stateDir);
      console.log(stopped ? 'cluster stopped' : 'no cluster running: nothing to stop');
      return 0;
    }
    case 'status': {
      const state = await runningCluster(stateDir);
      if (!state) {
        console.log('no cluster running');
        return 1;
      }
      console.log(JSON.stringify(state, null, 2));
      return 0;
    }
    case 'supervise': {
      const { supervise } = await import('./supervisor.ts');
      const options = JSON.parse(arg ?? '{}') as SuperviseOptions;
      const send = (m: unknown): void => void (process.connected && process.send?.(m));
      const code = await supervise(options, send);
      if (process.connected) process.disconnect();
      return code;
    }
    default:
      console.error(`usage: node ${shown(REPO_ROOT + '/hack/cluster/main.ts')} up|down|status`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv[2], process.argv[3]);
} catch (err) {
  console.error(
    err instanceof ClusterError
      ? `cluster: ${err.message} [${err.code}]`
      : `cluster: ${(err as Error).message}`,
  );
  process.exitCode = 1;
}
