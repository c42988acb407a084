import { rmSync } from 'node:fs';
import { clusterDown } from '../../hack/cluster/launcher.ts';

export default async function globalTeardown(): Promise<void> {
  const stateDir = process.env.CHAPERONE_TEST_CLUSTER_DIR;
  if (!stateDir) return; // a reused cluster is not ours to stop
  await clusterDown(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
}
