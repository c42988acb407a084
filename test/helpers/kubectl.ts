// Runs the cluster's own kubectl (bin/kubectl) against the test cluster, as a user would.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';

const run = promisify(execFile);

export async function kubectl(...args: string[]): Promise<string> {
  const kubeconfig = process.env.CHAPERONE_TEST_KUBECONFIG;
  if (!kubeconfig) throw new Error('CHAPERONE_TEST_KUBECONFIG is not set');
  const { stdout } = await run(`${REPO_ROOT}/bin/kubectl`, ['--kubeconfig', kubeconfig, ...args], {
    timeout: 30_000,
    env: { ...process.env, COLUMNS: '250' },
  });
  return stdout;
}
