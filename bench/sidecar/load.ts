// Load generation for the sidecar benchmark: one request at a time, a fixed arrival rate (open
// loop: latency counts from when a request was due, so queueing is not hidden), a closed loop at
// fixed concurrency, and time to first streamed byte. Clients are undici Pools.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export interface Target {
  name: string;
  pool: Pool;
  path: string;
  headers: Record<string, string>;
}

export function target(
  name: string,
  origin: string,
  path: string,
  options: { ca?: string; connections: number },
): Target {
  const pool = new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    ...(options.ca ? { connect: { ca: options.ca } } : {}),
  });
  return {
    name,
    pool,
    path,
    headers: { 'content-type': 'application/json', authorization: 'Bearer app-placeholder' },
  };
}

export const CHAT = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Say hello.' }],
});
export const CHAT_STREAM = JSON.stringify({
  model: 'gpt-4o-mini',
  stream: true,
  messages: [{ role: 'user', content: 'Say hello.' }],
});

async function call(t: Target, body: string): Promise<void> {
  const { statusCode, body: stream } = await t.pool.request({
    path: t.path,
    method: 'POST',
    headers: t.headers,
    body,
  });
  await stream.dump({ limit: 1 << 20 });
  if (statusCode !== 200) throw new Error(`${t.name}: status ${statusCode}`);
}

/** Latencies (ms) of `n` requests sent one after another. */
export async function sequential(t: Target, n: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await call(t, CHAT);
    latencies.push(performance.now() - start);
  }
  return latencies;
}

export interface RateResult {
  latencies: number[];
  errors: number;
  /** Completed requests per second over the run. */
  achieved: number;
}

/** `rate` requests per second for `durationMs`, each timed from the moment it was due. */
export async function fixedRate(t: Target, rate: number, durationMs: number): Promise<RateResult> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies: number[] = [];
  let errors = 0;
  let finished = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const done = (): void => {
      if (++finished === total) {
        const elapsed = (performance.now() - start) / 1000;
        resolve({ latencies, errors, achieved: total / elapsed });
      }
    };
    let sent = 0;
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const scheduled = start + (sent * 1000) / rate;
        sent++;
        call(t, CHAT).then(
          () => {
            latencies.push(performance.now() - scheduled);
            done();
          },
          () => {
            errors++;
            done();
          },
        );
      }
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

/** Requests per second with `concurrency` requests always in flight. */
export async function closedLoop(t: Target, concurrency: number, durationMs: number): Promise<number> {
  return (await closedLoopCount(t, concurrency, durationMs)).rps;
}

/** The closed loop, with the number of requests completed. */
export async function closedLoopCount(
  t: Target,
  concurrency: number,
  durationMs: number,
): Promise<{ rps: number; completed: number }> {
  let completed = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await call(t, CHAT);
        completed++;
      }
    }),
  );
  return { rps: completed / ((performance.now() - start) / 1000), completed };
}

/** CPU time (user + system) a process has used so far, in milliseconds (Linux /proc). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Time (ms) from sending a streaming request to its first body byte, one stream at a time. */
export async function timeToFirstByte(t: Target, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const { body } = await t.pool.request({
      path: t.path,
      method: 'POST',
      headers: t.headers,
      body: CHAT_STREAM,
    });
    await new Promise<void>((resolve, reject) => {
      body.once('data', () => {
        times.push(performance.now() - start);
        resolve();
      });
      body.once('error', reject);
    });
    await body.dump({ limit: 1 << 20 });
  }
  return times;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resident set size of a process, in MB (Linux /proc). */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Private (anonymous) resident memory of a process, in MB: RSS without the shared file pages. */
export function rssAnonMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/RssAnon:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Samples the maximum RSS of `pid` while `work` runs. */
export async function peakRss<T>(pid: number, work: Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = rssMb(pid);
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rssMb(pid));
      await sleep(100);
    }
  })();
  const result = await work;
  running = false;
  await sampler;
  return { result, peakMb: Math.max(peak, rssMb(pid)) };
}
