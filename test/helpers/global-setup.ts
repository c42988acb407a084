// Starts one real control plane (etcd, kube-apiserver, kube-controller-manager) for the whole
// integration run. Suites find it through CHAPERONE_TEST_KUBECONFIG. Setting that variable
// beforehand (e.g. to .cluster/kubeconfig after `make cluster-up`) reuses a running cluster.
import { clusterUp, scratchDir } from '../../hack/cluster/launcher.ts';

export default async function globalSetup(): Promise<void> {
  if (process.env.CHAPERONE_TEST_KUBECONFIG) return;
  const stateDir = scratchDir('test-cluster-');
  // The supervisor watches this process: if jest dies without running teardown, the cluster goes too.
  const state = await clusterUp({ stateDir, watchPid: process.pid });
  process.env.CHAPERONE_TEST_KUBECONFIG = state.kubeconfig;
  process.env.CHAPERONE_TEST_CLUSTER_DIR = stateDir;
  console.log(`\nlocal cluster ready in ${(state.readyAfterMs / 1000).toFixed(1)} s at ${state.server}`);
}
