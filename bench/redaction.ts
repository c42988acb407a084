// Throughput of the data boundary on the sidecar's hot path: inspectRequest() over 4 KiB OpenAI chat
// bodies carrying a realistic sprinkle of personal data (one to four values per body: emails, phone
// numbers, a card or IBAN now and then, rarely a key), side by side in one run with
//   - raw pass-through (the body forwarded untouched: the ceiling),
//   - JSON parse + serialise (what any body-rewriting proxy pays: the baseline the target is set on),
//   - redaction on (default detectors, action Redact, guards off),
//   - the policy defaults (redaction plus the prompt-injection and tool guards in Report),
//   - redaction on bodies without personal data (nothing to rewrite).
// Rounds are interleaved and the median is kept, so a noisy neighbour hurts every row alike.
//
//   node bench/redaction.ts            (or: make bench-redaction)
//   BENCH_SECONDS=20 node bench/redaction.ts
import { performance } from 'node:perf_hooks';
import { inspectRequest } from '../sidecar/src/guards/index.ts';
import { guardPolicy as policy } from '../test/helpers/guards.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? '12');
const BODY_BYTES = 4096;
const BODIES = 256;
const ROUNDS = 9;
const TARGET = 0.7;

/** Deterministic pseudo-random numbers (mulberry32): the same bodies on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USER = [
  'Hi, I ordered a standing desk two weeks ago and it still has not arrived.',
  'The tracking page says it left the warehouse on Monday, but nothing has moved since then.',
  'Could you check what is going on and tell me when I can expect the delivery?',
  'I also noticed that I was charged for express shipping even though I picked the standard option.',
  'Please refund the difference to the original payment method if that is possible.',
  'My neighbour said a courier came by yesterday afternoon, but there was no note at the door.',
  'Can you send me a summary of the order, including the invoice number and the items?',
  'I need the desk before the end of the month because I start a new job from home.',
  'If it cannot arrive by then, I would rather cancel the order and get a full refund.',
  'Thanks for the quick answer! One more question: does the desk come with the cable tray?',
  'I tried calling the support line twice this morning but the queue was over forty minutes.',
  'The order number is 88123 and it was placed on 2024-10-15, in case that helps.',
];
const ASSISTANT = [
  'Thank you for reaching out, and I am sorry about the delay with your order.',
  'I checked the shipment: the carrier reports a hold-up at the regional sorting centre.',
  'Standard deliveries from that centre are currently taking three to five extra working days.',
  'I have asked the carrier to prioritise your parcel and will update you as soon as I hear back.',
  'Regarding the shipping charge, I can see the express fee on the invoice; I have opened a refund request.',
  'Refunds usually appear on your statement within five to seven business days.',
  'The desk ships with the cable tray, the assembly kit and a printed manual.',
  'If the parcel does not move by Friday, we can cancel the order and refund it in full.',
  'Is there anything else I can help you with today?',
];
const WIDE = ['It’s fine — I’ll wait until Friday.', 'Merci, très aimable 🙂', 'Das wäre großartig, danke!'];

const PII: ((r: () => number) => string)[] = [
  (r) =>
    `You can reach me at ${['jane.doe', 'm.rossi', 'kim.lee+orders', 'p.novak'][Math.floor(r() * 4)]}@example.com.`,
  () => 'My phone number is +1 415 555 2671 if that is easier.',
  () => 'Call me on (212) 555-0147 after six, please.',
  () => 'The UK office line is 020 7946 0958.',
  () => 'The card I used ends up being 4111 1111 1111 1111, expiry 12/27.',
  () => 'Please send the refund to DE89 3704 0044 0532 0130 00 instead.',
  () => 'For the tax form: SSN 123-45-6789.',
  () => 'Our integration uses the key sk-proj-Zq3xT9vB2mK8pL4wN7rY1cF6hJ0dS5aG if you need it.',
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** A 4 KiB chat completions body; `pii` values are placed in user turns. */
function chatBody(r: () => number, pii: number): Buffer {
  const messages: { role: string; content: string }[] = [
    {
      role: 'system',
      content:
        'You are the support assistant of Acme Furniture. Answer politely and briefly, never promise dates you cannot keep, and offer a refund only within the policy.',
    },
  ];
  const extras: string[] = [];
  for (let i = 0; i < pii; i++) extras.push(pick(r, PII)(r));
  let turn = 0;
  const size = (): number => Buffer.byteLength(JSON.stringify({ model: 'gpt-4o-mini', messages }));
  while (size() < BODY_BYTES - 160) {
    const user = turn % 2 === 0;
    const sentences = Array.from({ length: 2 + Math.floor(r() * 2) }, () => pick(r, user ? USER : ASSISTANT));
    if (user && extras.length > 0 && r() < 0.6) sentences.splice(1, 0, extras.pop()!);
    // Typographic quotes, accents, an emoji: one body in five has a character beyond Latin-1.
    if (r() < 0.015) sentences.push(pick(r, WIDE));
    messages.push({ role: user ? 'user' : 'assistant', content: sentences.join(' ') });
    turn++;
  }
  // Whatever did not fit in a turn goes into the last user message.
  if (extras.length > 0) messages.push({ role: 'user', content: extras.join(' ') });
  return Buffer.from(
    JSON.stringify({ model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 400, stream: true }),
  );
}

interface Row {
  name: string;
  bodies: readonly Buffer[];
  run: (body: Buffer) => number;
}

function measure(row: Row, budgetMs: number): number {
  // Ops per second over whole passes of the body set, for at least budgetMs.
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    for (const body of row.bodies) sink += row.run(body);
    ops += row.bodies.length;
    elapsed = performance.now() - start;
  } while (elapsed < budgetMs);
  if (sink === -1) console.log('unreachable');
  return (ops / elapsed) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const r = prng(7);
  const withPii = Array.from({ length: BODIES }, () => chatBody(r, 1 + Math.floor(r() * 4)));
  const clean = Array.from({ length: BODIES }, () => chatBody(r, 0));
  const redactOnly = policy({ guards: { promptInjection: { action: 'Off' }, tools: { action: 'Off' } } });
  const defaults = policy({});
  const meanBytes = withPii.reduce((n, b) => n + b.length, 0) / withPii.length;

  // Sanity: every body is rewritten and no value survives redaction.
  for (const body of withPii) {
    const out = inspectRequest(body, 'openai-chat', redactOnly);
    const text = out.body!.toString();
    if (
      out.findings.boundary.action !== 'redacted' ||
      /@example\.com|4111 1111|555 2671|DE89 3704/.test(text)
    )
      throw new Error(`a body was not redacted: ${JSON.stringify(out.findings)}`);
  }

  const rows: Row[] = [
    { name: 'raw pass-through (one copy of the bytes)', bodies: withPii, run: (b) => Buffer.from(b).length },
    {
      name: 'JSON parse + serialise (baseline)',
      bodies: withPii,
      run: (b) => Buffer.from(JSON.stringify(JSON.parse(b.toString('utf8')))).length,
    },
    {
      name: 'redaction on',
      bodies: withPii,
      run: (b) => inspectRequest(b, 'openai-chat', redactOnly).body!.length,
    },
    {
      name: 'policy defaults (redaction + guards)',
      bodies: withPii,
      run: (b) => inspectRequest(b, 'openai-chat', defaults).body!.length,
    },
    {
      name: 'redaction on, bodies without PII',
      bodies: clean,
      run: (b) => inspectRequest(b, 'openai-chat', redactOnly).body!.length,
    },
  ];
  // Warm-up: let the JIT settle on every path.
  for (const row of rows) measure(row, Math.min(150, SECONDS * 20));
  const budget = (SECONDS * 1000) / ROUNDS / rows.length;
  const samples = rows.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    rows.forEach((row, i) => samples[i]!.push(measure(row, budget)));
  }
  const rates = samples.map(median);
  const baseline = rates[1]!;
  const kib = meanBytes / 1024;
  console.log(
    `inspectRequest throughput, ${BODIES} distinct chat bodies of ${kib.toFixed(1)} KiB on average, ` +
      `1-4 personal values each; median of ${ROUNDS} interleaved rounds (Node ${process.version})\n`,
  );
  console.log('| | bodies/s | MiB/s | µs per body | vs baseline |');
  console.log('|---|---:|---:|---:|---:|');
  rows.forEach((row, i) => {
    const rate = rates[i]!;
    console.log(
      `| ${row.name} | ${Math.round(rate)} | ${((rate * meanBytes) / 1048576).toFixed(1)} | ${(1e6 / rate).toFixed(2)} | ${(rate / baseline).toFixed(2)}× |`,
    );
  });
  const ratio = rates[2]! / baseline;
  console.log(
    `\nredaction on vs parse + serialise: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×: ${ratio >= TARGET ? 'met' : 'NOT met'})`,
  );
}

main();
