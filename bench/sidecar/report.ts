// Turns the recorded figures of `make bench` (bench/results/side-by-side.json) into the markdown
// table and the verdicts on the issue's targets. Pure: the unit test feeds it recorded data.

/** Percentiles of one measurement, in ms. */
export interface Spread {
  p50: number;
  p99: number;
  count: number;
}

/** One round of one target (a round measures every target once, in a rotated order). */
export interface RoundFigures {
  sequential: Spread;
  /** Keyed by arrival rate; absent when the target cannot sustain that rate (see maxClosedRps). */
  rates: Record<
    string,
    | (Spread & {
        errors: number;
        achieved: number;
        cpuMsPerRequest: number;
        /** How late the native load generator sent requests (ms): its own jitter, in every latency. */
        generatorLateMs?: { p50: number; p99: number; max: number };
        /** Runs measured again and discarded because the generator itself stalled (HARNESS_STALL_MS). */
        reruns?: number;
      })
    | undefined
  >;
  streams: { firstByte: Spread; complete: Spread; errors: number };
}

export interface TargetRecord {
  name: string;
  /**
   * How the app reaches it: base URL (a reverse proxy or gateway) or HTTPS_PROXY (CONNECT). `control`:
   * the direct call measured a second time, as if it were a proxy (an A/A test) — its added figures
   * are the harness's own noise, the smallest difference this run can tell apart from zero.
   */
  path: 'direct' | 'base URL' | 'CONNECT' | 'control';
  /** The peer this row is compared with (undici for base-URL proxies, smokescreen for CONNECT). */
  isChaperone: boolean;
  rounds: RoundFigures[];
  /** Highest arrival rate served with p99 under budget, the proxy pinned to one core: the median of `maxRates`. */
  maxRate: number;
  /** What each search found, in order. */
  maxRates: number[];
  /** Requests per second with 16 in flight (the ceiling the max-rate search starts from). */
  maxClosedRps: number;
  /** The proxy's CPU time per request in that closed loop (ms): its cost with no idle time to share. */
  closedCpuMsPerRequest: number;
  rssIdleMb: number;
  rssLoadMb: number;
}

export interface BenchResults {
  date: string;
  tookSeconds: number;
  scale: number;
  machine: { cpus: number; model: string; node: string; pinned: boolean };
  config: {
    connections: number;
    rates: number[];
    p99BudgetMs: number;
    streamEvents: number;
    streamIntervalMs: number;
    streamRate: number;
    /** How the fixed-rate load was generated (absent in runs before bench/loadgen). */
    loadGenerator?: string;
    /** The discarded run at each fixed rate before the measured one (absent in earlier runs). */
    settleMs?: number;
  };
  versions: Record<string, string>;
  targets: TargetRecord[];
}

/** How many max-rate searches the run made, when more than one: their median is the figure. */
const searchesNote = (results: BenchResults): string => {
  const n = Math.max(0, ...results.targets.map((t) => t.maxRates?.length ?? 0));
  return n > 1 ? ` (the max rate: median of ${n} searches, range in brackets)` : '';
};

/** The spread of several searches' results, ` (min–max)`; nothing when they agree. */
const rateRange = (rates: number[] = []): string =>
  Math.min(...rates) < Math.max(...rates) ? ` (${Math.min(...rates)}–${Math.max(...rates)})` : '';

export const median = (values: number[]): number => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
};

/** The median over rounds of (target − direct) in the same round: the added time, noise halved. */
/** (target − direct) in each round: NaN where either lacks the figure. */
export function perRoundAdded(
  target: TargetRecord,
  direct: TargetRecord,
  pick: (r: RoundFigures) => number | undefined,
): number[] {
  return target.rounds.map((r, i) => {
    const t = pick(r);
    const d = direct.rounds[i] ? pick(direct.rounds[i]) : undefined;
    return t === undefined || d === undefined ? NaN : t - d;
  });
}

export function added(
  target: TargetRecord,
  direct: TargetRecord,
  pick: (r: RoundFigures) => number | undefined,
): number {
  return median(perRoundAdded(target, direct, pick));
}

export const medianOf = (target: TargetRecord, pick: (r: RoundFigures) => number | undefined): number =>
  median(target.rounds.map((r) => pick(r) ?? NaN));

const fmt = (v: number, digits = 2): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const pair = (a: number, b: number, digits = 2): string =>
  Number.isFinite(a) || Number.isFinite(b) ? `${fmt(a, digits)} / ${fmt(b, digits)}` : '—';

/** Figures of one row, medians over rounds, added ones relative to the direct call. */
export interface RowFigures {
  seqP50: number;
  seqP99: number;
  rate: Record<string, { p50: number; p99: number; errors: number; achieved: number } | 'saturated'>;
  ttftP50: number;
  ttftP99: number;
  streamP50: number;
  streamErrors: number;
  /** CPU per request in the saturated closed loop, as % of a core at 1000 requests/s. */
  cpuPercentSaturated: number;
  /** CPU per request measured while requests arrived at 1000/s, as % of a core (median of rounds). */
  cpuPercentArriving1000: number;
}

export function rowFigures(results: BenchResults, t: TargetRecord): RowFigures {
  const direct = results.targets.find((x) => x.path === 'direct')!;
  const rate: RowFigures['rate'] = {};
  for (const r of results.config.rates) {
    const key = String(r);
    const ran = t.rounds.some((x) => x.rates[key]);
    rate[key] = ran
      ? {
          p50: added(t, direct, (x) => x.rates[key]?.p50),
          p99: added(t, direct, (x) => x.rates[key]?.p99),
          errors: t.rounds.reduce((s, x) => s + (x.rates[key]?.errors ?? 0), 0),
          achieved: medianOf(t, (x) => x.rates[key]?.achieved),
        }
      : 'saturated';
  }
  return {
    seqP50: added(t, direct, (x) => x.sequential.p50),
    seqP99: added(t, direct, (x) => x.sequential.p99),
    rate,
    ttftP50: added(t, direct, (x) => (x.streams.errors ? undefined : x.streams.firstByte.p50)),
    ttftP99: added(t, direct, (x) => (x.streams.errors ? undefined : x.streams.firstByte.p99)),
    streamP50: added(t, direct, (x) => (x.streams.errors ? undefined : x.streams.complete.p50)),
    streamErrors: t.rounds.reduce((s, x) => s + x.streams.errors, 0),
    // ms of CPU per request × 1000 requests per second = ms per second = % of a core ÷ 10.
    cpuPercentSaturated: t.closedCpuMsPerRequest * 100,
    // At 1000 rps requests mostly arrive alone: each wakes the process and nothing is batched, so
    // this is the higher figure (bench/README.md gives the ratios of the last run).
    cpuPercentArriving1000: medianOf(t, (x) => x.rates['1000']?.cpuMsPerRequest) * 100,
  };
}

export interface Verdict {
  target: string;
  figure: string;
  /** undefined: could not be judged (a figure it needs is missing). */
  met: boolean | undefined;
}

/** A row's added p99 at 1000 rps (NaN when it did not run). */
function p99At1000(f: RowFigures): number {
  const at1000 = f.rate['1000'];
  return at1000 && at1000 !== 'saturated' ? at1000.p99 : NaN;
}

/** The A/A control's added p99 at 1000 rps, round by round: the harness's own noise. */
function controlNoise(
  results: BenchResults,
  control: TargetRecord,
): { min: number; max: number; median: number; largest: number } | undefined {
  const direct = results.targets.find((x) => x.path === 'direct')!;
  const diffs = perRoundAdded(control, direct, (r) => r.rates['1000']?.p99).filter(Number.isFinite);
  if (diffs.length === 0) return undefined;
  const min = Math.min(...diffs);
  const max = Math.max(...diffs);
  return { min, max, median: median(diffs), largest: Math.max(-min, max) };
}

/**
 * Judges an added p99 against 1 ms given the run's resolution: met only when the run can tell,
 * missed only when the tail stands out of the noise, otherwise not judged.
 */
function judge1ms(p99: number, resolution: number): boolean | undefined {
  if (!Number.isFinite(p99) || p99 - resolution > 1) return false;
  if (p99 <= 1 && resolution <= 1) return true;
  return undefined;
}

/** The issue's targets, judged for each Chaperone row. */
export function verdicts(results: BenchResults): Verdict[] {
  const byName = (n: string): TargetRecord | undefined => results.targets.find((t) => t.name === n);
  const undici = byName('undici pass-through');
  const litellm = byName('LiteLLM');
  const portkey = byName('Portkey');
  const out: Verdict[] = [];
  const control = results.targets.find((x) => x.path === 'control');
  // What the direct call "adds" to itself in any one round: the noise a 1000 rps p99 carries here.
  const noise = control ? controlNoise(results, control) : undefined;
  for (const t of results.targets.filter((x) => x.isChaperone && x.path === 'base URL')) {
    const f = rowFigures(results, t);
    const p99 = p99At1000(f);
    const r = noise?.largest ?? 0;
    const met = judge1ms(p99, r);
    out.push({
      target: `${t.name}: added p99 ≤ 1 ms at 1000 rps`,
      figure:
        met === undefined
          ? p99 < -r
            ? `${fmt(p99, 3)} ms: below zero by more than the A/A control's ±${fmt(r, 1)} ms, the direct call's own tail was worse in those rounds`
            : `${fmt(p99, 3)} ms, within this run's noise (the A/A control's rounds: up to ±${fmt(r, 1)} ms)`
          : `${fmt(p99, 3)} ms`,
      met,
    });
    if (undici) {
      const ratio = t.maxRate / undici.maxRate;
      out.push({
        target: `${t.name}: ≥ 0.6× the undici pass-through's throughput (p99 < ${results.config.p99BudgetMs} ms, one core)`,
        figure: `${t.maxRate} vs ${undici.maxRate} rps = ${fmt(ratio)}×`,
        met: undici.maxRate > 0 ? ratio >= 0.6 : undefined,
      });
    }
    for (const [peer, factor] of [
      [litellm, 5],
      [portkey, 1],
    ] as const) {
      if (!peer) continue;
      const pf = rowFigures(results, peer);
      // Compare at the highest fixed rate both sustained, else one request at a time.
      const common = results.config.rates
        .map(String)
        .filter((r) => f.rate[r] !== 'saturated' && pf.rate[r] !== 'saturated')
        .at(-1);
      const mine = common ? (f.rate[common] as { p99: number }).p99 : f.seqP99;
      const theirs = common ? (pf.rate[common] as { p99: number }).p99 : pf.seqP99;
      const where = common ? `at ${common} rps` : 'one request at a time';
      out.push({
        target:
          factor > 1
            ? `${t.name}: added p99 ≥ ${factor}× lower than ${peer.name}'s (${where})`
            : `${t.name}: added p99 lower than ${peer.name}'s (${where})`,
        // A ratio to a figure at or below zero means nothing: only the order is reported.
        figure:
          mine > 0
            ? `${fmt(mine, 3)} vs ${fmt(theirs, 3)} ms = ${fmt(theirs / mine, 1)}× lower`
            : `${fmt(mine, 3)} vs ${fmt(theirs, 3)} ms (no added p99 measured)`,
        met: mine * factor <= theirs,
      });
    }
  }
  if (noise) {
    out.push({
      target: `resolution: the direct call against itself (A/A control) adds ${fmt(noise.min, 3)} to ${fmt(noise.max, 3)} ms p99 at 1000 rps from round to round; an added p99 within ±${fmt(noise.largest, 3)} ms of zero is not resolved by this run`,
      figure: `median ${fmt(noise.median, 3)} ms`,
      met: undefined,
    });
  }
  return out;
}

export function renderMarkdown(results: BenchResults): string {
  const { config, machine } = results;
  const undici = results.targets.find((t) => t.name === 'undici pass-through');
  const header = [
    'proxy',
    'path',
    'one at a time: added p50 / p99 (ms)',
    ...config.rates.map((r) => `${r} rps: added p50 / p99 (ms)`),
    `max rps, p99 < ${config.p99BudgetMs} ms, 1 core`,
    '× undici',
    'stream: added TTFT p50 / p99 (ms)',
    'stream: added duration p50 (ms)',
    'CPU per 1000 rps, % of a core: saturated / arriving at 1000 rps',
    'RSS idle / load (MB)',
  ];
  const rows = results.targets.map((t) => {
    const f = rowFigures(results, t);
    const isDirect = t.path === 'direct';
    // The control has latencies only: no proxy process to pin, load or weigh.
    const noProxy = isDirect || t.path === 'control';
    const streams =
      f.streamErrors > 0 && !Number.isFinite(f.ttftP50) ? `fails (${f.streamErrors} errors)` : null;
    return [
      t.isChaperone ? `**${t.name}**` : t.name,
      t.path,
      isDirect ? '0 (baseline)' : pair(f.seqP50, f.seqP99, 3),
      ...config.rates.map((r) => {
        const x = f.rate[String(r)];
        if (isDirect) return '0 (baseline)';
        if (x === 'saturated') return `saturated (max ${t.maxClosedRps.toFixed(0)} rps)`;
        const behind = x!.achieved < r * 0.9 ? ` (fell behind: ${x!.achieved.toFixed(0)} rps)` : '';
        return `${pair(x!.p50, x!.p99, 3)}${x!.errors ? ` (${x!.errors} errors)` : ''}${behind}`;
      }),
      noProxy ? '—' : `${t.maxRate}${rateRange(t.maxRates)}`,
      noProxy || !undici?.maxRate ? '' : `${fmt(t.maxRate / undici.maxRate)}×`,
      isDirect ? '0 (baseline)' : (streams ?? pair(f.ttftP50, f.ttftP99)),
      isDirect ? '0 (baseline)' : (streams ?? fmt(f.streamP50, 1)),
      noProxy ? '—' : pair(f.cpuPercentSaturated, f.cpuPercentArriving1000, 1),
      noProxy ? '—' : `${fmt(t.rssIdleMb, 0)} / ${fmt(t.rssLoadMb, 0)}`,
    ];
  });
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const v = verdicts(results);
  return [
    `## Side by side (${results.date})`,
    '',
    `${machine.cpus} × ${machine.model}, Node ${machine.node}; ${machine.pinned ? 'each proxy pinned to CPU 1, the load generator and the mock provider to CPU 0' : 'not pinned (fewer than two CPUs)'};`,
    `medians over ${results.targets[0]?.rounds.length ?? 0} rounds${searchesNote(results)}, scale ${results.scale}, took ${(results.tookSeconds / 60).toFixed(1)} min.`,
    `Added = the row's figure minus the direct call's in the same round. ${config.connections} connections per client;`,
    `streams: ${config.streamEvents} events ${config.streamIntervalMs} ms apart, ${config.streamRate} new streams/s; TTFT = first body byte.`,
    ...(config.loadGenerator ? [`Fixed rates and the max-rate search: ${config.loadGenerator}.`] : []),
    ...(config.settleMs
      ? [
          `Each fixed rate is measured after ${config.settleMs / 1000} s at that rate, discarded (steady state).`,
        ]
      : []),
    ...(results.targets.some((t) => t.path === 'control')
      ? [
          'The A/A control is the direct call measured a second time: what it adds is the harness’s own noise, the resolution of the added figures.',
        ]
      : []),
    '',
    line(header),
    line(header.map(() => '---')),
    ...rows.map(line),
    '',
    '### Targets',
    '',
    ...v.map(
      (x) =>
        `- ${x.met === undefined ? 'not judged' : x.met ? 'met' : '**NOT met**'}: ${x.target} — ${x.figure}`,
    ),
    '',
    '### Versions',
    '',
    ...Object.entries(results.versions).map(([k, val]) => `- ${k}: ${val}`),
    '',
  ].join('\n');
}
