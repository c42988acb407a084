// Runs the cluster's own helm (bin/helm, built from pinned modules) and kubectl against the test
// cluster, as a user would. Helm's cache, config and data stay under .cache/helm, never in $HOME.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubernetesObject } from '@kubernetes/client-node';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'chaperone');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const HELM_HOME = join(REPO_ROOT, '.cache', 'helm');

function run(
  command: string,
  args: readonly string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HELM_CACHE_HOME: join(HELM_HOME, 'cache'),
        HELM_CONFIG_HOME: join(HELM_HOME, 'config'),
        HELM_DATA_HOME: join(HELM_HOME, 'data'),
      },
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

function kubeconfig(): string {
  const file = process.env.CHAPERONE_TEST_KUBECONFIG;
  if (!file) throw new Error('CHAPERONE_TEST_KUBECONFIG is not set');
  return file;
}

/** bin/helm with the test cluster's kubeconfig; never throws (lint failures are results). */
export async function helmResult(...args: string[]): Promise<RunResult> {
  return run(join(REPO_ROOT, 'bin', 'helm'), ['--kubeconfig', kubeconfig(), ...args]);
}

/** bin/helm; throws with its stderr when it exits non-zero. */
export async function helm(...args: string[]): Promise<string> {
  const result = await helmResult(...args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** bin/kubectl with `input` on stdin (e.g. `apply --dry-run=server -f -`); never throws. */
export async function kubectlInput(input: string, ...args: string[]): Promise<RunResult> {
  return run(join(REPO_ROOT, 'bin', 'kubectl'), ['--kubeconfig', kubeconfig(), ...args], input);
}

/** The objects of a multi-document manifest, as rendered by `helm template`. */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubernetesObject | null)
    .filter((object): object is KubernetesObject => object !== null && typeof object === 'object');
}
