// Runs chaperone-controller from its sources as a real child process (as `node webhook/src/main.ts`
// would), waits for its "listening" log line and keeps every log line for assertions.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';
import { startJsonProcess } from './json-process.ts';

export interface RunningController {
  port: number;
  /** Parsed JSON log lines so far (stdout). */
  logs: Record<string, unknown>[];
  stderr(): string;
  /** SIGTERM, then the exit code. Idempotent. */
  stop(): Promise<number | null>;
  readonly child: ChildProcess;
}

export interface ControllerArgs {
  kubeconfig: string;
  certFile: string;
  keyFile: string;
  /** Extra flags, e.g. ['--namespace', 'x']. */
  args?: string[];
  /** Port to listen on (default 0: a free one). */
  port?: number;
}

const MAIN = join(REPO_ROOT, 'webhook', 'src', 'main.ts');

export async function startController(
  options: ControllerArgs,
  timeoutMs = 20_000,
): Promise<RunningController> {
  const running = await startJsonProcess(
    'controller',
    MAIN,
    [
      '--kubeconfig',
      options.kubeconfig,
      '--tls-cert',
      options.certFile,
      '--tls-key',
      options.keyFile,
      '--listen',
      `127.0.0.1:${options.port ?? 0}`,
      ...(options.args ?? []),
    ],
    (line) => (line.msg === 'listening' ? (line.port as number) : undefined),
    timeoutMs,
  );
  return { ...running, port: running.ready };
}
