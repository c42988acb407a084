// A Chaperone process run from its sources (`node <main.ts> ...`) the way it runs for real, with
// its JSON log lines kept for assertions. Resolves once `ready` recognises a line.
import { spawn, type ChildProcess } from 'node:child_process';

export interface JsonProcess<T> {
  /** What `ready` returned for the line that made the process ready. */
  ready: T;
  /** Parsed JSON log lines so far (stdout). */
  logs: Record<string, unknown>[];
  stderr(): string;
  readonly child: ChildProcess;
  /** SIGTERM, then the exit code. Idempotent. */
  stop(): Promise<number | null>;
}

export async function startJsonProcess<T>(
  name: string,
  main: string,
  args: string[],
  ready: (line: Record<string, unknown>) => T | undefined,
  timeoutMs = 20_000,
  env: Record<string, string> = {},
): Promise<JsonProcess<T>> {
  const child = spawn(process.execPath, [main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const value = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        const found = ready(entry);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready: ${stderr}`));
    });
  });
  let stopping: Promise<number | null> | undefined;
  return {
    ready: value,
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
