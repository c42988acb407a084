// Runs chaperone-proxy from its sources as a real child process, as it runs in an injected pod,
// and keeps its JSON log lines for assertions.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';

export interface RunningSidecar {
  ports: { providers: number; forwardProxy: number; admin: number };
  logs: Record<string, unknown>[];
  child: ChildProcess;
  stop(): Promise<number | null>;
}

const MAIN = join(REPO_ROOT, 'sidecar', 'src', 'main.ts');

export async function startSidecarProcess(args: string[], timeoutMs = 20_000): Promise<RunningSidecar> {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--providers-address',
      '127.0.0.1:0',
      '--proxy-address',
      '127.0.0.1:0',
      '--admin-address',
      '127.0.0.1:0',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } },
  );
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ports = await new Promise<RunningSidecar['ports']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sidecar did not start: ${stderr}`)), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.event === 'listening') {
          clearTimeout(timer);
          resolve(entry.ports as RunningSidecar['ports']);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`sidecar exited (${code}) before listening: ${stderr}`));
    });
  });
  let stopping: Promise<number | null> | undefined;
  return {
    ports,
    logs,
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
