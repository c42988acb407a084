// Starts one real control plane (etcd, kube-apiserver, kube-controller-manager) for the whole
// integration run. Suites find it through CHAPERONE_TEST_KUBECONFIG. Setting that variable
// beforehand (e.g. to .cluster/kubeconfig after `make cluster-up`) reuses a running cluster.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { clusterUp, REPO_ROOT } from '../../hack/cluster/launcher.ts';

export default async function globalSetup(): Promise<void> {
  if (process.env.CHAPERONE_TEST_KUBECONFIG) return;
  // .cache exists only if something installed into it (Node, when the system's is older than 24).
  mkdirSync(join(REPO_ROOT, '.cache'), { recursive: true });
  const stateDir = mkdtempSync(join(REPO_ROOT, '.cache', 'test-cluster-'));
  // The supervisor watches this process: if jest dies without running teardown, the cluster goes too.
  const state = await clusterUp({ stateDir, watchPid: process.pid });
  process.env.CHAPERONE_TEST_KUBECONFIG = state.kubeconfig;
  process.env.CHAPERONE_TEST_CLUSTER_DIR = stateDir;
  console.log(`\nlocal cluster ready in ${(state.readyAfterMs / 1000).toFixed(1)} s at ${state.server}`);
}
