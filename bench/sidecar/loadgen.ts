// Fixed arrival rates through bench/loadgen, the native (Go) generator that hack/bench-peers.sh
// builds into .cache/bench-peers/bin/loadgen: one process per run, the target described as JSON on
// its stdin, every request's latency (from when it was due) as JSON on its stdout. The Node
// generator (load.ts fixedRate) shares CPU 0 with the mock provider, and its event loop's timer
// and GC stalls made the A/A control's p99 at 1000 rps swing by tens of milliseconds.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixedRate, type RateResult, type Target } from './load.ts';

/** What bench/loadgen reads on stdin (bench/loadgen/main.go, Config). */
export interface LoadgenConfig {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  ca?: string;
  proxy?: string;
  connections: number;
  rate: number;
  durationMs: number;
}

export type NativeRateResult = RateResult & { sendLateMs: NonNullable<RateResult['sendLateMs']> };

/** A fixed-rate run: `rate` requests per second for `durationMs`, each timed from when it was due. */
export type RateRunner = (t: Target, rate: number, durationMs: number) => Promise<RateResult>;

export function loadgenConfig(t: Target, rate: number, durationMs: number): LoadgenConfig {
  return {
    url: new URL(t.path, t.origin).href,
    method: 'POST',
    headers: t.headers,
    body: t.body,
    ...(t.endpoint.ca ? { ca: t.endpoint.ca } : {}),
    ...(t.endpoint.proxy ? { proxy: t.endpoint.proxy } : {}),
    connections: t.endpoint.connections,
    rate,
    durationMs,
  };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Reads bench/loadgen's stdout (microseconds) into the figures the bench records (ms). */
export function parseLoadgenResult(stdout: string): NativeRateResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw new Error(`loadgen printed no JSON result: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const r = parsed as Record<string, unknown>;
  const { requests, errors, elapsedMs, latencyUs, sendLateUs } = r;
  if (
    !isCount(requests) ||
    !isCount(errors) ||
    typeof elapsedMs !== 'number' ||
    !Array.isArray(latencyUs) ||
    !latencyUs.every(isCount) ||
    !Array.isArray(sendLateUs) ||
    sendLateUs.length !== 3 ||
    !sendLateUs.every(isCount)
  )
    throw new Error(`loadgen's result lacks a field or has one of the wrong type: ${stdout.slice(0, 200)}`);
  if (latencyUs.length + errors !== requests)
    throw new Error(
      `loadgen accounted for ${latencyUs.length} latencies and ${errors} errors of ${requests} requests`,
    );
  const [p50, p99, max] = sendLateUs.map((us) => us / 1000) as [number, number, number];
  return {
    latencies: latencyUs.map((us) => us / 1000),
    errors,
    achieved: elapsedMs > 0 ? requests / (elapsedMs / 1000) : NaN,
    sendLateMs: { p50, p99, max },
  };
}

/** Runs bench/loadgen once against `t`. */
export function nativeFixedRate(binary: string): RateRunner {
  return (t, rate, durationMs) =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code !== 0) {
          reject(new Error(`${binary} exited with ${code}: ${Buffer.concat(err).toString().trim()}`));
          return;
        }
        try {
          resolve(parseLoadgenResult(Buffer.concat(out).toString()));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      child.stdin.end(JSON.stringify(loadgenConfig(t, rate, durationMs)));
    });
}

/**
 * A fixed-rate run during which the generator itself was held up this long (ms) measured the
 * machine, not the target: CPU 0 was taken by something else than the harness (the machine is
 * shared; the scheduler's tick alone delays it by up to 4 ms).
 */
export const HARNESS_STALL_MS = 8;

/**
 * `run`, again (up to `reruns` times) while the generator reports a stall of its own longer than
 * HARNESS_STALL_MS; the result says how many runs were discarded. Generators that do not report
 * their lateness (the Node one) run once.
 */
export async function withoutHarnessStalls(
  run: RateRunner,
  t: Target,
  rate: number,
  durationMs: number,
  reruns = 2,
): Promise<RateResult & { reruns: number }> {
  let result = await run(t, rate, durationMs);
  let n = 0;
  while (n < reruns && (result.sendLateMs?.max ?? 0) > HARNESS_STALL_MS) {
    n++;
    result = await run(t, rate, durationMs);
  }
  return { ...result, reruns: n };
}

export type LoadGenerator =
  { name: 'native'; binary: string; run: RateRunner } | { name: 'node'; run: RateRunner };

/**
 * The fixed-rate generator: bench/loadgen when built (`required`: or fail), else the Node one.
 * BENCH_LOADGEN=node picks the Node generator (to compare the two), BENCH_LOADGEN=native insists.
 */
export function loadGenerator(peersDir: string, required: boolean): LoadGenerator {
  const binary = process.env.BENCH_LOADGEN_BIN ?? join(peersDir, 'bin/loadgen');
  const choice = process.env.BENCH_LOADGEN ?? (required ? 'native' : 'auto');
  if (choice === 'node' || (choice === 'auto' && !existsSync(binary)))
    return { name: 'node', run: fixedRate };
  if (!existsSync(binary)) throw new Error(`no ${binary}: run hack/bench-peers.sh (make bench does)`);
  return { name: 'native', binary, run: nativeFixedRate(binary) };
}

/** One line for the results: how the fixed-rate load was generated. */
export function describeGenerator(g: LoadGenerator): string {
  return g.name === 'native'
    ? 'bench/loadgen (Go, open loop, nanosleep-paced, a process per run)'
    : 'Node (undici, the load generator process itself)';
}
