// Load generation for the sidecar benchmarks: one request at a time, a fixed arrival rate (open
// loop: latency counts from when a request was due, so queueing is not hidden), a closed loop at
// fixed concurrency, time to first streamed byte, and streams at a fixed arrival rate. Clients are
// undici Pools, or a ProxyAgent (CONNECT, TLS end to end through the tunnel) for forward proxies.
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';

export interface Target {
  name: string;
  dispatcher: Dispatcher;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** The chat completion request sent (CHAT unless told). */
  body: string;
  /** The same request with `"stream":true` (CHAT_STREAM unless told). */
  streamBody: string;
  /** How a client other than `dispatcher` (bench/loadgen) reaches the same place. */
  endpoint: { ca?: string; proxy?: string; connections: number };
}

export interface TargetOptions {
  /** The CA the origin's certificate is checked against (https origins). */
  ca?: string;
  connections: number;
  /** A forward proxy (http://host:port): every connection is a CONNECT tunnel to `origin`. */
  proxy?: string;
  /** Extra request headers (e.g. a gateway's routing headers). */
  headers?: Record<string, string>;
  body?: string;
  streamBody?: string;
}

export function target(name: string, origin: string, path: string, options: TargetOptions): Target {
  const common = { connections: options.connections, pipelining: 1, keepAliveTimeout: 60_000 };
  const dispatcher = options.proxy
    ? new ProxyAgent({
        uri: options.proxy,
        ...common,
        ...(options.ca ? { requestTls: { ca: options.ca } } : {}),
      })
    : new Pool(origin, { ...common, ...(options.ca ? { connect: { ca: options.ca } } : {}) });
  return {
    name,
    dispatcher,
    origin,
    path,
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer app-placeholder',
      ...options.headers,
    },
    body: options.body ?? CHAT,
    streamBody: options.streamBody ?? CHAT_STREAM,
    endpoint: { ca: options.ca, proxy: options.proxy, connections: options.connections },
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

/** One chat completion; throws unless the answer is a 200. */
export async function call(t: Target, body: string): Promise<void> {
  const { statusCode, body: stream } = await t.dispatcher.request({
    origin: t.origin,
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
    await call(t, t.body);
    latencies.push(performance.now() - start);
  }
  return latencies;
}

export interface RateResult {
  latencies: number[];
  errors: number;
  /** Completed requests per second over the run. */
  achieved: number;
  /** How late the generator itself sent the requests (ms), where it says (bench/loadgen). */
  sendLateMs?: { p50: number; p99: number; max: number };
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
        call(t, t.body).then(
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
        await call(t, t.body);
        completed++;
      }
    }),
  );
  return { rps: completed / ((performance.now() - start) / 1000), completed };
}

/**
 * Measures windows until the rate stops rising — `flat` windows in a row not `rise` above the best
 * so far, at most `max` — and returns the best: a proxy's warm rate, not its warm-up's.
 */
export async function untilFlat<T extends { rps: number }>(
  measure: () => Promise<T>,
  { max = 8, flat = 2, rise = 0.05 } = {},
): Promise<T> {
  let best: T | undefined;
  for (let window = 0, flatRun = 0; window < max && flatRun < flat; window++) {
    const result = await measure();
    flatRun = best && result.rps <= best.rps * (1 + rise) ? flatRun + 1 : 0;
    if (!best || result.rps > best.rps) best = result;
  }
  return best!;
}

/**
 * A bisection for the highest rate that passes, from 0 to 1.1x a ceiling, to within 2 % (or 25 rps):
 * the rate to try next, then whether it passed. Kept apart from the probing so that several
 * searches can take their steps in turn.
 */
export class RateBisection {
  #lo = 0;
  #hi: number;

  constructor(ceiling: number) {
    this.#hi = Math.ceil(ceiling * 1.1);
  }

  get done(): boolean {
    return this.#hi - this.#lo <= Math.max(25, this.#hi * 0.02);
  }

  /** The rate to try next. */
  get next(): number {
    return Math.round((this.#lo + this.#hi) / 2);
  }

  record(passed: boolean): void {
    if (passed) this.#lo = this.next;
    else this.#hi = this.next;
  }

  /** The highest rate that passed, rounded down to 10 rps (0 if none did). */
  get result(): number {
    return Math.floor(this.#lo / 10) * 10;
  }
}

/**
 * CPU time (user + system) a process has used so far, in milliseconds (Linux /proc); with
 * `reaped`, also that of its children that exited and were waited for.
 */
export function cpuMs(pid: number, reaped = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime and cstime are fields 14 to 17 of /proc/<pid>/stat, in clock ticks (100 per second).
  const ticks = (i: number): number => Number(fields[i]);
  return ((ticks(11) + ticks(12) + (reaped ? ticks(13) + ticks(14) : 0)) * 1000) / 100;
}

/** Time (ms) from sending a streaming request to its first body byte, one stream at a time. */
export async function timeToFirstByte(t: Target, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const { body } = await t.dispatcher.request({
      origin: t.origin,
      path: t.path,
      method: 'POST',
      headers: t.headers,
      body: t.streamBody,
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

export interface StreamResult {
  /** From when each stream was due to its first body byte (the first token), ms. */
  firstByte: number[];
  /** From when each stream was due to its last byte, ms: shows a proxy that buffers. */
  complete: number[];
  errors: number;
}

/**
 * `rate` streaming requests per second, `count` in all, each timed from the moment it was due.
 * Streams overlap (a 64-event stream lasts over a second), as they do in an application.
 */
export async function streamsAtRate(t: Target, rate: number, count: number): Promise<StreamResult> {
  const result: StreamResult = { firstByte: [], complete: [], errors: 0 };
  const start = performance.now();
  const one = async (i: number): Promise<void> => {
    const due = start + (i * 1000) / rate;
    await sleep(Math.max(0, due - performance.now()));
    try {
      const { statusCode, body } = await t.dispatcher.request({
        origin: t.origin,
        path: t.path,
        method: 'POST',
        headers: t.headers,
        body: t.streamBody,
      });
      let first = true;
      for await (const chunk of body) {
        if (first && (chunk as Buffer).length > 0) {
          result.firstByte.push(performance.now() - due);
          first = false;
        }
      }
      if (statusCode !== 200) throw new Error(`${t.name}: status ${statusCode}`);
      result.complete.push(performance.now() - due);
    } catch {
      result.errors++;
    }
  };
  await Promise.all(Array.from({ length: count }, (_, i) => one(i)));
  return result;
}

/** A process and all its descendants (nginx's workers, a Python server's children), Linux /proc. */
export function processTree(pid: number): number[] {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${pids[i]}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${pids[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(' ').map(Number));
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return pids;
}

// A process that exited meanwhile, or a zombie (no VmRSS), adds nothing.
const sumOver = (pid: number, read: (p: number) => number): number =>
  processTree(pid).reduce((sum, p) => {
    try {
      const value = read(p);
      return Number.isFinite(value) ? sum + value : sum;
    } catch {
      return sum;
    }
  }, 0);

/** CPU time (ms) used so far by a process and its descendants, live or exited (so it only grows). */
export const treeCpuMs = (pid: number): number => sumOver(pid, (p) => cpuMs(p, true));
/** Resident memory (MB) of a process and its descendants. */
export const treeRssMb = (pid: number): number => sumOver(pid, rssMb);

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

/** Samples the maximum RSS of `pid` (with its descendants when `tree`) while `work` runs. */
export async function peakRss<T>(
  pid: number,
  work: Promise<T>,
  tree = false,
): Promise<{ result: T; peakMb: number }> {
  const rss = tree ? treeRssMb : rssMb;
  let peak = rss(pid);
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rss(pid));
      await sleep(100);
    }
  })();
  const result = await work;
  running = false;
  await sampler;
  return { result, peakMb: Math.max(peak, rss(pid)) };
}
