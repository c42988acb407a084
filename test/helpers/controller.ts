// Runs chaperone-controller from its sources as a real child process (as `node webhook/src/main.ts`
// would), waits for its "listening" log line and keeps every log line for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';

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
  const child = spawn(
    process.execPath,
    [
      MAIN,
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
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8');

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`controller did not start in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'listening') {
          clearTimeout(timer);
          resolve(entry.port as number);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`controller exited (${code}) before listening: ${stderr}`));
    });
  });

  let stopping: Promise<number | null> | undefined;
  return {
    port,
    logs,
    stderr: () => stderr,
    child,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return exited;
      })();
      return stopping;
    },
  };
}
