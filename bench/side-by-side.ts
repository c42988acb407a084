// make bench: Chaperone side by side with a direct call, a bare undici pass-through, nginx, LiteLLM,
// Portkey and smokescreen, in one run on one machine, against one mock provider (bench/sidecar/
// upstream.ts: a ~350-byte chat completion, or 64 SSE events 20 ms apart). bench/README.md states
// the method and each peer's configuration. Peers come from hack/bench-peers.sh.
//   1. every proxy starts pinned to CPU 1 (the load generator and the provider on CPU 0);
//   2. per proxy, the highest arrival rate served with p99 < 10 ms (a bisection under the
//      closed-loop ceiling, the proxies' searches taking their steps in turn);
//   3. ROUNDS rounds, each target in a rotated order: one request at a time, fixed arrival rates,
//      streams at a fixed rate; CPU and peak RSS during the fixed rates;
//   4. bench/results/side-by-side.{md,json,png}: medians over rounds.
// BENCH_SCALE=0.2 for a quick, noisy run; BENCH_ROUNDS (default 3); BENCH_ONLY=nginx,LiteLLM to
// run a subset (the direct call always runs); BENCH_OUT to write elsewhere than bench/results.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mockPki } from '../test/mocks/pki.ts';
import {
  closedLoop,
  closedLoopCount,
  peakRss,
  percentile,
  RateBisection,
  sequential,
  streamsAtRate,
  treeCpuMs,
  treeRssMb,
  untilFlat,
  type Target,
} from './sidecar/load.ts';
import {
  describeGenerator,
  loadGenerator,
  withoutHarnessStalls,
  type RateRunner,
} from './sidecar/loadgen.ts';
import * as peers from './sidecar/peers.ts';
import {
  median,
  renderMarkdown,
  type BenchResults,
  type RoundFigures,
  type Spread,
  type TargetRecord,
} from './sidecar/report.ts';

const SCALE = Number(process.env.BENCH_SCALE ?? '1');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '3');
// The max-rate search, repeated: one search's result moved by up to 1.7x between runs (nginx 8960
// and 4710 rps), so the report takes the median of several, each before a round.
const SEARCHES = Number(process.env.BENCH_SEARCHES ?? String(ROUNDS));
const ONLY = process.env.BENCH_ONLY?.split(',').map((s) => s.trim().toLowerCase());
const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));
const CONNECTIONS = 16;
const RATES = [100, 1000];
const SETTLE_MS = 1000;
const P99_BUDGET_MS = 10;
const STREAM_EVENTS = 64;
const STREAM_INTERVAL_MS = 20;
const STREAM_RATE = 20;
const HERE = new URL('.', import.meta.url).pathname;
const ROOT = join(HERE, '..');
const OUT = process.env.BENCH_OUT ?? join(HERE, 'results');
const PEERS_DIR = process.env.BENCH_PEERS_DIR ?? join(ROOT, '.cache/bench-peers');
const COMPILED = join(ROOT, 'dist/sidecar/src/main.js');

// A small support-chat request with one e-mail address, so that redaction has one value to replace.
const MESSAGES = [
  { role: 'system', content: 'You are a helpful support assistant for an online shop. Answer briefly.' },
  {
    role: 'user',
    content:
      'Hello, my order 48213 has not arrived yet. You can reach me at jane.doe@example.com. ' +
      'Could you check where it is and when I can expect it? Thanks, Jane',
  },
];
const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: MESSAGES });

const log = (text: string): void => void process.stderr.write(`${text}\n`);
const spread = (values: number[]): Spread => ({
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  count: values.length,
});

interface Running extends peers.Peer {
  record: TargetRecord;
}

async function startAll(ctx: peers.PeerContext): Promise<Running[]> {
  const wanted = (name: string): boolean => !ONLY || ONLY.some((o) => name.toLowerCase().includes(o));
  const starters: [string, () => Promise<peers.Peer[]>][] = [
    ['undici pass-through', async () => [await peers.undiciFloor(ctx)]],
    ['nginx', async () => [await peers.nginx(ctx)]],
    ['LiteLLM', async () => [await peers.litellm(ctx)]],
    ['Portkey', async () => [await peers.portkey(ctx)]],
    ['smokescreen', async () => [await peers.smokescreen(ctx)]],
    ['Chaperone', () => peers.chaperone(ctx, 'allowlist')],
    ['Chaperone, redaction', () => peers.chaperone(ctx, 'redaction')],
    ['Chaperone, all guards', () => peers.chaperone(ctx, 'guards')],
  ];
  const started: peers.Peer[] = [peers.direct(ctx), peers.directControl(ctx)];
  for (const [name, start] of starters) {
    if (!wanted(name)) continue;
    log(`starting ${name}…`);
    started.push(...(await start()));
  }
  await sleep(2000); // let start-up allocations settle before the idle RSS
  return started.map((p) => ({
    ...p,
    record: {
      name: p.name,
      path:
        p.name === 'direct'
          ? 'direct'
          : p.pid === undefined
            ? 'control'
            : p.target.dispatcher.constructor.name === 'ProxyAgent'
              ? 'CONNECT'
              : 'base URL',
      isChaperone: p.name.startsWith('Chaperone'),
      rounds: [],
      maxRate: 0,
      maxRates: [],
      maxClosedRps: 0,
      closedCpuMsPerRequest: NaN,
      rssIdleMb: p.pid ? treeRssMb(p.pid) : NaN,
      rssLoadMb: 0, // the peak so far: the searches and the fixed rates raise it
    },
  }));
}

/**
 * The closed-loop rate with 16 in flight once it has stopped rising: 2 s windows until two in a row
 * are not 5 % above the best (at most 8), the best taken. Measured after a 1 s warm-up and minutes
 * idle while the others ran, proxies' first windows were their warm-up's: the undici floor 2660,
 * 6800, 14930 rps in three windows, Chaperone 4630, 6200, 7550 (8330 by the sixth). Saturated, the
 * proxy's idle work (timers, housekeeping) weighs nothing per request. The direct call has no search
 * to cap (its figure is the harness's own limit, kept in the raw data): one window.
 */
async function closedLoopCeiling(r: Running): Promise<{ rps: number; cpuMsPerRequest: number }> {
  return untilFlat(
    async () => {
      const cpuBefore = r.pid ? treeCpuMs(r.pid) : NaN;
      const { rps, completed } = await closedLoopCount(r.target, CONNECTIONS, scaled(2000));
      return { rps, cpuMsPerRequest: r.pid ? (treeCpuMs(r.pid) - cpuBefore) / completed : NaN };
    },
    r.pid ? {} : { max: 1 },
  );
}

/**
 * The highest rate (to 2 %) each proxy serves with p99 under budget, by bisection under its
 * closed-loop ceiling. The searches take their 2 s steps in turn (the order rotated every step), so
 * that a noisy minute on the machine falls on every proxy's search rather than on one of them: the
 * ratios are what the report judges. Searched one after another, the redaction row's ratio to the
 * floor read 0.55x, 0.50x and 0.35x in three runs of one data path. Appends what each search
 * found to the row's `maxRates`.
 */
async function maxRates(run: RateRunner, searches: { r: Running; ceiling: number }[]): Promise<void> {
  const passes = async (t: Target, rate: number): Promise<boolean> => {
    const r = await run(t, rate, scaled(2000));
    return r.errors === 0 && percentile(r.latencies, 99) < P99_BUDGET_MS && r.achieved >= rate * 0.9;
  };
  const open = searches.map((s) => ({ ...s, search: new RateBisection(s.ceiling) }));
  for (let step = 0; open.some((s) => !s.search.done); step++) {
    const pending = open.filter((s) => !s.search.done);
    for (let k = 0; k < pending.length; k++) {
      const { r, ceiling, search } = pending[(k + step) % pending.length]!;
      const rate = search.next;
      // One retry on a failed step: a single noisy second on a shared machine is not the proxy's limit.
      search.record((await passes(r.target, rate)) || (await passes(r.target, rate)));
      if (search.done) {
        r.record.maxRates.push(search.result);
        log(`  ${r.name}: ${search.result} rps (closed loop ${ceiling.toFixed(0)} rps)`);
      }
    }
  }
}

async function round(run: RateRunner, r: Running): Promise<RoundFigures> {
  const figures: RoundFigures = {
    sequential: spread(await sequential(r.target, scaled(400))),
    rates: {},
    streams: { firstByte: spread([]), complete: spread([]), errors: 0 },
  };
  for (const rate of RATES) {
    // A rate far beyond what the proxy serves with 16 in flight only measures its queue (and takes
    // minutes): say so rather than wait. Closer to it, measure: a noisy ceiling must not skip a row.
    if (r.pid && r.record.maxClosedRps < rate * 0.5) continue;
    // A second at the rate first, discarded: each row is measured in its steady state, not in the
    // first second after a minute idle while the others ran. Coming out of 40-50 s idle, the
    // sidecar's p99 at 1000 rps was 1.2-4.7 ms against 0.8-1.5 under steady load, with 4-20
    // optimising compiles in the round (docs/sidecar.md). Every row, the direct call's too, gets it.
    await run(r.target, rate, scaled(SETTLE_MS));
    const cpuBefore = r.pid ? treeCpuMs(r.pid) : NaN;
    const work = withoutHarnessStalls(run, r.target, rate, scaled(3000));
    const { result, peakMb } = r.pid ? await peakRss(r.pid, work, true) : { result: await work, peakMb: NaN };
    // Every run, discarded ones included, sends the same number of requests and used the CPU measured.
    const completed = (result.latencies.length + result.errors) * (1 + result.reruns);
    figures.rates[String(rate)] = {
      ...spread(result.latencies),
      errors: result.errors,
      achieved: result.achieved,
      cpuMsPerRequest: r.pid ? (treeCpuMs(r.pid) - cpuBefore) / completed : NaN,
      ...(result.sendLateMs ? { generatorLateMs: result.sendLateMs, reruns: result.reruns } : {}),
    };
    r.record.rssLoadMb = Math.max(r.record.rssLoadMb, peakMb);
  }
  const s = await streamsAtRate(r.streamTarget, STREAM_RATE, scaled(60));
  figures.streams = { firstByte: spread(s.firstByte), complete: spread(s.complete), errors: s.errors };
  return figures;
}

function versions(): Record<string, string> {
  const file = join(PEERS_DIR, 'versions.json');
  const peerVersions = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)
    : {};
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const undici = JSON.parse(readFileSync(join(ROOT, 'node_modules/undici/package.json'), 'utf8')) as {
    version: string;
  };
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  return {
    chaperone: `${pkg.version} (${git || 'unknown commit'}, ${existsSync(COMPILED) ? 'dist/' : 'sources'})`,
    node: process.version,
    undici: undici.version,
    ...peerVersions,
  };
}

function chart(jsonFile: string, pngFile: string): void {
  const python = join(PEERS_DIR, 'venv/bin/python');
  const run = spawnSync(python, [join(HERE, 'sidecar/chart.py'), jsonFile, pngFile], { stdio: 'inherit' });
  if (run.status !== 0)
    log(`the chart was not drawn (${python} exited with ${run.status ?? run.error?.message})`);
}

async function main(): Promise<void> {
  const started = Date.now();
  if (!existsSync(join(PEERS_DIR, 'versions.json')))
    throw new Error(`no peers in ${PEERS_DIR}: run hack/bench-peers.sh (make bench does)`);
  const generator = loadGenerator(PEERS_DIR, true);
  const pinned = cpus().length >= 2 && process.env.BENCH_PIN !== '0';
  // The load generator (this process) and the mock provider on CPU 0, each proxy on CPU 1.
  if (pinned) spawnSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'chaperone-bench-'));
  let upstream: ChildProcess | undefined;
  try {
    const pki = await mockPki();
    for (const [name, text] of Object.entries({ 'ca.pem': pki.ca, 'cert.pem': pki.cert, 'key.pem': pki.key }))
      writeFileSync(join(dir, name), text);
    mkdirSync(join(dir, 'secrets', 'openai-key'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'openai-key', 'apiKey'), 'sk-bench-not-a-real-key');

    upstream = spawn(
      process.execPath,
      [
        join(HERE, 'sidecar/upstream.ts'),
        join(dir, 'cert.pem'),
        join(dir, 'key.pem'),
        String(STREAM_EVENTS),
        String(STREAM_INTERVAL_MS),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const provider = upstream;
    const upstreamPort = await new Promise<number>((resolve, reject) => {
      provider.stdout!.setEncoding('utf8');
      provider.stdout!.once('data', (line: string) => resolve(Number(/ready (\d+)/.exec(line)?.[1])));
      provider.once('exit', (code) => reject(new Error(`the mock provider exited with ${code}`)));
    });
    const ctx: peers.PeerContext = {
      dir,
      peersDir: PEERS_DIR,
      upstreamPort,
      ca: pki.ca,
      caFile: join(dir, 'ca.pem'),
      pin: pinned ? ['taskset', '-c', '1'] : [],
      sidecarMain: existsSync(COMPILED) ? COMPILED : join(ROOT, 'sidecar/src/main.ts'),
      body: BODY,
      streamBody: STREAM_BODY,
      connections: CONNECTIONS,
    };
    const running = await startAll(ctx);
    const results: BenchResults = {
      date: new Date().toISOString(),
      tookSeconds: 0,
      scale: SCALE,
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'cpu', node: process.version, pinned },
      config: {
        connections: CONNECTIONS,
        rates: RATES,
        p99BudgetMs: P99_BUDGET_MS,
        streamEvents: STREAM_EVENTS,
        streamIntervalMs: STREAM_INTERVAL_MS,
        streamRate: STREAM_RATE,
        loadGenerator: describeGenerator(generator),
        settleMs: scaled(SETTLE_MS),
      },
      versions: versions(),
      targets: running.map((r) => r.record),
    };

    log(`warming up (scale ${SCALE})…`);
    for (const r of running) {
      await sequential(r.target, scaled(200));
      await closedLoop(r.target, CONNECTIONS, scaled(1000));
    }
    log('closed-loop ceilings…');
    const searches: { r: Running; ceiling: number }[] = [];
    for (const r of running) {
      const { rps, cpuMsPerRequest } = await closedLoopCeiling(r);
      r.record.maxClosedRps = rps;
      r.record.closedCpuMsPerRequest = cpuMsPerRequest;
      // The direct call's limit is the load generator's and the provider's, sharing CPU 0.
      if (r.pid) searches.push({ r, ceiling: rps });
    }
    // One sampler a process: the allowlist and CONNECT rows are one sidecar.
    const pids = [...new Set(searches.map(({ r }) => r.pid!))];
    for (let i = 0; i < Math.max(ROUNDS, SEARCHES); i++) {
      if (i < SEARCHES) {
        log(`highest arrival rate with p99 < ${P99_BUDGET_MS} ms, search ${i + 1} of ${SEARCHES}…`);
        const work = maxRates(generator.run, searches);
        const peaks = await Promise.all(pids.map((pid) => peakRss(pid, work, true)));
        for (const { r } of searches)
          r.record.rssLoadMb = Math.max(r.record.rssLoadMb, peaks[pids.indexOf(r.pid!)]!.peakMb);
      }
      if (i >= ROUNDS) continue;
      log(`round ${i + 1} of ${ROUNDS}…`);
      // Each round starts one target later, so that none is always the first after a search.
      const order = running.map((_, k) => running[(k + i) % running.length]!);
      const figures = new Map<Running, RoundFigures>();
      for (const r of order) figures.set(r, await round(generator.run, r));
      for (const r of running) r.record.rounds.push(figures.get(r)!);
    }
    for (const { r } of searches) r.record.maxRate = Math.floor(median(r.record.maxRates) / 10) * 10;
    await Promise.all(
      running.flatMap((r) => [r.target.dispatcher.close(), r.streamTarget.dispatcher.close()]),
    );
    results.tookSeconds = (Date.now() - started) / 1000;

    mkdirSync(OUT, { recursive: true });
    const json = join(OUT, 'side-by-side.json');
    writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
    const markdown = renderMarkdown(results);
    writeFileSync(join(OUT, 'side-by-side.md'), markdown);
    chart(json, join(OUT, 'side-by-side.png'));
    process.stdout.write(`${markdown}\n`);
  } finally {
    upstream?.kill('SIGTERM');
    peers.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  peers.stopAll('SIGKILL');
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
