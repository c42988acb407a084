// Side-by-side benchmark of chaperone-proxy: a direct call to a local HTTPS provider, a bare
// node:http + undici pass-through (the floor), and the sidecar (policy, credential, breaker,
// audit line and metrics on every request), measured in one run on one machine:
//   - added latency one request at a time, and at a fixed arrival rate over 16 connections;
//   - throughput: the highest arrival rate served with p99 < 10 ms, and closed-loop requests/s;
//   - added time to first byte on SSE streams;
//   - resident memory idle and under load.
// Usage: make bench-sidecar (builds first), or node bench/sidecar.ts after make build.
// BENCH_SCALE=0.2 for a quicker, noisier run; BENCH_FROM_SOURCE=1 to run the sidecar's sources. The sidecar runs from dist/ as deployed (from the
// TypeScript sources, with a note in the output, when dist/ is missing).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mockPki } from '../test/mocks/pki.ts';
import {
  closedLoop,
  closedLoopCount,
  cpuMs,
  peakRss,
  percentile,
  rssMb,
  rssAnonMb,
  sequential,
  target,
  timeToFirstByte,
  type Target,
} from './sidecar/load.ts';
import { describeGenerator, loadGenerator, type RateRunner } from './sidecar/loadgen.ts';
import { SIDECAR_NODE_FLAGS } from '../sidecar/src/runtime/node-flags.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));
const CONNECTIONS = 16;
const FIXED_RATE = 1000;
const P99_BUDGET_MS = 10;
const RATES = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 14000, 16000];
const HERE = new URL('.', import.meta.url).pathname;
const COMPILED = join(HERE, '../dist/sidecar/src/main.js');
const SOURCE = join(HERE, '../sidecar/src/main.ts');
// BENCH_FROM_SOURCE=1: the smoke test runs the sources, never a stale build.
const SIDECAR_MAIN = process.env.BENCH_FROM_SOURCE !== '1' && existsSync(COMPILED) ? COMPILED : SOURCE;
const children: ChildProcess[] = [];

/** Starts a child and waits for the line `ready` test accepts; keeps draining its output after. */
function startChild(
  args: string[],
  ready: (line: string) => number | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let found = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (found) return;
      buffer += chunk;
      for (const line of buffer.split('\n')) {
        const port = ready(line);
        if (port !== undefined) {
          found = true;
          clearTimeout(timer);
          buffer = '';
          resolve({ child, port });
          return;
        }
      }
    });
    const timer = setTimeout(() => {
      if (!found) reject(new Error(`${args.join(' ')} was not ready within 20 s`));
    }, 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`${args.join(' ')} exited with ${code} before it was ready`));
    });
  });
}

const readyLine = (line: string): number | undefined => {
  const m = /^ready (\d+)$/.exec(line.trim());
  return m ? Number(m[1]) : undefined;
};

function policyYaml(upstreamPort: number, ca: string): string {
  const caIndented = ca
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
  return `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: bench}
spec:
  providers:
    - name: openai
      type: openai
      endpoint: https://localhost:${upstreamPort}
      allowedCIDRs: ['127.0.0.0/8', '::1/128']
      allowedModels: ['gpt-4o-mini']
      credentials:
        secretRef: {name: openai-key, key: apiKey}
      circuitBreaker: {volumeThreshold: 1000}
      caBundle: |
${caIndented}
`;
}

const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(3)}` : 'n/a');
const ratio = (a: number, b: number): string =>
  b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : 'n/a';

interface Figures {
  seqP50: number;
  seqP99: number;
  rateP50: number;
  rateP99: number;
  rateErrors: number;
  maxRate: number;
  closedRps: number;
  cpuPerRequestUs: number;
  ttftP50: number;
  ttftP99: number;
  rssIdle: number;
  rssIdleAnon: number;
  rssLoad: number;
}

/** The highest rate of RATES served with p99 under budget; a failed step gets one retry (noise). */
async function maxRateUnderBudget(run: RateRunner, t: Target): Promise<number> {
  const passes = async (rate: number): Promise<boolean> => {
    const r = await run(t, rate, scaled(2000));
    return r.errors === 0 && percentile(r.latencies, 99) < P99_BUDGET_MS && r.achieved >= rate * 0.9;
  };
  let best = 0;
  for (const rate of RATES) {
    if (!(await passes(rate)) && !(await passes(rate))) break;
    best = rate;
  }
  return best;
}

async function main(): Promise<void> {
  const started = Date.now();
  // bench/loadgen when hack/bench-peers.sh built it, else the Node generator (make test needs no Go).
  const generator = loadGenerator(process.env.BENCH_PEERS_DIR ?? join(HERE, '../.cache/bench-peers'), false);
  const dir = mkdtempSync(join(tmpdir(), 'chaperone-bench-'));
  try {
    const pki = await mockPki();
    for (const [name, text] of Object.entries({ 'ca.pem': pki.ca, 'cert.pem': pki.cert, 'key.pem': pki.key }))
      writeFileSync(join(dir, name), text);
    mkdirSync(join(dir, 'secrets', 'openai-key'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'openai-key', 'apiKey'), 'sk-bench-not-a-real-key');

    const upstream = await startChild(
      [join(HERE, 'sidecar/upstream.ts'), join(dir, 'cert.pem'), join(dir, 'key.pem')],
      readyLine,
    );
    const origin = `https://localhost:${upstream.port}`;
    writeFileSync(join(dir, 'policy.yaml'), policyYaml(upstream.port, pki.ca));
    const passthrough = await startChild(
      [join(HERE, 'sidecar/passthrough.js'), origin, join(dir, 'ca.pem')],
      readyLine,
    );
    const sidecar = await startChild(
      [
        ...SIDECAR_NODE_FLAGS, // as the image and the #! line start it
        SIDECAR_MAIN,
        '--policy',
        join(dir, 'policy.yaml'),
        '--secrets-dir',
        join(dir, 'secrets'),
        '--providers-address',
        '127.0.0.1:0',
        '--proxy-address',
        '127.0.0.1:0',
        '--admin-address',
        '127.0.0.1:0',
      ],
      (line) => {
        if (!line.startsWith('{')) return undefined;
        const parsed = JSON.parse(line) as { event?: string; ports?: { providers: number } };
        return parsed.event === 'listening' ? parsed.ports!.providers : undefined;
      },
    );
    // The sidecar writes an audit line per request to stdout: keep reading it, as a log shipper would.
    sidecar.child.stdout!.resume();
    await sleep(1000);
    const idle = {
      passthrough: rssMb(passthrough.child.pid!),
      sidecar: rssMb(sidecar.child.pid!),
      passthroughAnon: rssAnonMb(passthrough.child.pid!),
      sidecarAnon: rssAnonMb(sidecar.child.pid!),
    };

    const targets = {
      direct: target('direct', origin, '/v1/chat/completions', { ca: pki.ca, connections: CONNECTIONS }),
      passthrough: target(
        'undici pass-through',
        `http://127.0.0.1:${passthrough.port}`,
        '/v1/chat/completions',
        {
          connections: CONNECTIONS,
        },
      ),
      sidecar: target('chaperone-proxy', `http://127.0.0.1:${sidecar.port}`, '/openai/v1/chat/completions', {
        connections: CONNECTIONS,
      }),
    };
    const pids: Record<keyof typeof targets, number | undefined> = {
      direct: undefined,
      passthrough: passthrough.child.pid,
      sidecar: sidecar.child.pid,
    };
    const names = Object.keys(targets) as (keyof typeof targets)[];
    const figures = Object.fromEntries(names.map((n) => [n, {} as Figures])) as Record<
      keyof typeof targets,
      Figures
    >;
    figures.passthrough.rssIdle = idle.passthrough;
    figures.sidecar.rssIdle = idle.sidecar;
    figures.passthrough.rssIdleAnon = idle.passthroughAnon;
    figures.sidecar.rssIdleAnon = idle.sidecarAnon;

    process.stderr.write(`warming up (scale ${SCALE})…\n`);
    for (const n of names) {
      await sequential(targets[n], scaled(500));
      await closedLoop(targets[n], CONNECTIONS, scaled(1000));
    }
    process.stderr.write('one request at a time…\n');
    for (const n of names) {
      const l = await sequential(targets[n], scaled(2000));
      figures[n].seqP50 = percentile(l, 50);
      figures[n].seqP99 = percentile(l, 99);
    }
    process.stderr.write(`${FIXED_RATE} requests/s over ${CONNECTIONS} connections…\n`);
    for (const n of names) {
      const work = generator.run(targets[n], FIXED_RATE, scaled(5000));
      const pid = pids[n];
      const { result, peakMb } = pid ? await peakRss(pid, work) : { result: await work, peakMb: NaN };
      figures[n].rateP50 = percentile(result.latencies, 50);
      figures[n].rateP99 = percentile(result.latencies, 99);
      figures[n].rateErrors = result.errors;
      figures[n].rssLoad = peakMb;
    }
    process.stderr.write(`highest arrival rate with p99 < ${P99_BUDGET_MS} ms…\n`);
    for (const n of names) {
      const pid = pids[n];
      const work = maxRateUnderBudget(generator.run, targets[n]);
      const { result, peakMb } = pid ? await peakRss(pid, work) : { result: await work, peakMb: NaN };
      figures[n].maxRate = result;
      figures[n].rssLoad = Math.max(figures[n].rssLoad, peakMb);
    }
    process.stderr.write(`closed loop, ${CONNECTIONS} in flight…\n`);
    for (const n of names) {
      const pid = pids[n];
      const cpuBefore = pid ? cpuMs(pid) : NaN;
      const { rps, completed } = await closedLoopCount(targets[n], CONNECTIONS, scaled(3000));
      figures[n].closedRps = rps;
      figures[n].cpuPerRequestUs = pid ? ((cpuMs(pid) - cpuBefore) * 1000) / completed : NaN;
    }
    process.stderr.write('time to first streamed byte…\n');
    for (const n of names) {
      const t = await timeToFirstByte(targets[n], scaled(500));
      figures[n].ttftP50 = percentile(t, 50);
      figures[n].ttftP99 = percentile(t, 99);
    }
    await Promise.all(names.map((n) => targets[n].dispatcher.close()));

    const { direct: d, passthrough: p, sidecar: s } = figures;
    const rows: string[][] = [
      [
        'one at a time, p50 (ms)',
        ms(d.seqP50),
        ms(p.seqP50),
        ms(s.seqP50),
        signed(s.seqP50 - d.seqP50),
        signed(s.seqP50 - p.seqP50),
        '',
      ],
      [
        'one at a time, p99 (ms)',
        ms(d.seqP99),
        ms(p.seqP99),
        ms(s.seqP99),
        signed(s.seqP99 - d.seqP99),
        signed(s.seqP99 - p.seqP99),
        '',
      ],
      [
        `${FIXED_RATE} rps / ${CONNECTIONS} conns, p50 (ms)`,
        ms(d.rateP50),
        ms(p.rateP50),
        ms(s.rateP50),
        signed(s.rateP50 - d.rateP50),
        signed(s.rateP50 - p.rateP50),
        '',
      ],
      [
        `${FIXED_RATE} rps / ${CONNECTIONS} conns, p99 (ms)`,
        ms(d.rateP99),
        ms(p.rateP99),
        ms(s.rateP99),
        signed(s.rateP99 - d.rateP99),
        signed(s.rateP99 - p.rateP99),
        'added p99 ≤ 1 ms',
      ],
      [
        `${FIXED_RATE} rps errors`,
        String(d.rateErrors),
        String(p.rateErrors),
        String(s.rateErrors),
        '',
        '',
        '0',
      ],
      [
        `max rps with p99 < ${P99_BUDGET_MS} ms`,
        String(d.maxRate),
        String(p.maxRate),
        String(s.maxRate),
        '',
        ratio(s.maxRate, p.maxRate),
        '≥ 0.6× pass-through',
      ],
      [
        `closed loop, ${CONNECTIONS} in flight (rps)`,
        d.closedRps.toFixed(0),
        p.closedRps.toFixed(0),
        s.closedRps.toFixed(0),
        '',
        ratio(s.closedRps, p.closedRps),
        '',
      ],
      [
        'proxy CPU per request, closed loop (µs)',
        '—',
        p.cpuPerRequestUs.toFixed(0),
        s.cpuPerRequestUs.toFixed(0),
        '',
        ratio(p.cpuPerRequestUs, s.cpuPerRequestUs),
        'pass-through CPU ÷ sidecar CPU',
      ],
      [
        'SSE time to first byte, p50 (ms)',
        ms(d.ttftP50),
        ms(p.ttftP50),
        ms(s.ttftP50),
        signed(s.ttftP50 - d.ttftP50),
        signed(s.ttftP50 - p.ttftP50),
        '',
      ],
      [
        'SSE time to first byte, p99 (ms)',
        ms(d.ttftP99),
        ms(p.ttftP99),
        ms(s.ttftP99),
        signed(s.ttftP99 - d.ttftP99),
        signed(s.ttftP99 - p.ttftP99),
        'added p99 ≤ 1 ms',
      ],
      ['RSS idle (MB)', '—', p.rssIdle.toFixed(1), s.rssIdle.toFixed(1), '', '', '≤ 60 MB'],
      [
        '  of which private (RssAnon, MB)',
        '—',
        p.rssIdleAnon.toFixed(1),
        s.rssIdleAnon.toFixed(1),
        '',
        '',
        '',
      ],
      ['RSS peak under load (MB)', '—', p.rssLoad.toFixed(1), s.rssLoad.toFixed(1), '', '', ''],
    ];
    const header = [
      'measure',
      'direct',
      'undici pass-through',
      'chaperone-proxy',
      'sidecar − direct',
      'sidecar vs pass-through',
      'target',
    ];
    const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
    const out = [
      `## chaperone-proxy benchmark (${new Date().toISOString()})`,
      '',
      `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; every process on this machine, loopback only;`,
      `scale ${SCALE}; took ${((Date.now() - started) / 1000).toFixed(0)} s. Upstream: local HTTPS provider (JSON ~350 B, SSE 10 events).`,
      `Sidecar: ${SIDECAR_MAIN.includes('/dist/') ? 'dist/sidecar/src/main.js (compiled)' : 'sidecar/src/main.ts (type-stripped: make build first for deployed figures)'}.`,
      'RSS = VmRSS; RssAnon excludes the shared, file-backed pages of the node binary and libraries.',
      `Fixed rates and the max-rate search: ${describeGenerator(generator)}.`,
      '',
      line(header),
      line(header.map(() => '---')),
      ...rows.map(line),
      '',
    ].join('\n');
    process.stdout.write(`${out}\n`);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  for (const child of children) child.kill('SIGKILL');
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
