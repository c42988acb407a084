// Runs chaperone-proxy from its sources as a real child process, as it runs in an injected pod,
// and keeps its JSON log lines for assertions.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';
import { startJsonProcess } from './json-process.ts';

export interface RunningSidecar {
  ports: { providers: number; forwardProxy: number; admin: number };
  logs: Record<string, unknown>[];
  stderr(): string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

const MAIN = join(REPO_ROOT, 'sidecar', 'src', 'main.ts');

/** `env`: what the webhook would set (CHAPERONE_TOKEN_FILES, CHAPERONE_POD_*), besides PATH. */
export async function startSidecarProcess(
  args: string[],
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<RunningSidecar> {
  const running = await startJsonProcess(
    'sidecar',
    MAIN,
    [
      '--providers-address',
      '127.0.0.1:0',
      '--proxy-address',
      '127.0.0.1:0',
      '--admin-address',
      '127.0.0.1:0',
      ...args,
    ],
    (line) => (line.event === 'listening' ? (line.ports as RunningSidecar['ports']) : undefined),
    timeoutMs,
    env,
  );
  return { ...running, ports: running.ready };
}
