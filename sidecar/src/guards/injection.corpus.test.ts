// The prompt-injection heuristics against the labelled corpus in test/corpus/prompt-injection.jsonl:
// precision and recall at the default threshold, per split, printed and held to floors. The
// "tuning" splits are what the signals were written against (in-sample figures); "holdout" was
// written afterwards and never tuned on — its recall is the honest estimate for new phrasings.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { guardSpec } from '../../../test/helpers/guards.ts';
import { scoreEverySignal, scoreInjection, scorePieces } from './injection.ts';
import type { SegmentKind } from './shapes.ts';

interface Example {
  label: 'injection' | 'benign';
  kind: SegmentKind;
  text: string;
  split: 'tuning' | 'tuning-2' | 'tuning-3' | 'holdout';
  category?: string;
}

const corpus = readFileSync(new URL('../../../test/corpus/prompt-injection.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Example);

const THRESHOLD = guardSpec().guards.promptInjection.threshold;

interface Figures {
  n: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
}

function measure(examples: readonly Example[]): Figures {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const example of examples) {
    const flagged = scorePieces([example]).score.score >= THRESHOLD;
    if (example.label === 'injection') {
      if (flagged) tp++;
      else fn++;
    } else if (flagged) fp++;
    else tn++;
  }
  return {
    n: examples.length,
    tp,
    fp,
    fn,
    tn,
    precision: tp / Math.max(1, tp + fp),
    recall: tp / Math.max(1, tp + fn),
  };
}

const inSample = corpus.filter((e) => e.split !== 'holdout');
const holdout = corpus.filter((e) => e.split === 'holdout');

describe('prompt-injection corpus', () => {
  it('is large and balanced enough to mean something', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    const benign = corpus.filter((e) => e.label === 'benign').length;
    expect(benign / corpus.length).toBeGreaterThan(0.4);
    expect(benign / corpus.length).toBeLessThan(0.6);
    expect(holdout.length).toBeGreaterThanOrEqual(40);
    // Benign examples that merely mention the words.
    const mentions = corpus.filter(
      (e) =>
        e.label === 'benign' && /ignore|system prompt|instructions|jailbreak|disregard|pretend/i.test(e.text),
    );
    expect(mentions.length).toBeGreaterThanOrEqual(30);
  });

  it('reports precision and recall at the default threshold', () => {
    const rows: [string, Figures][] = [
      ['tuning (in-sample)', measure(inSample)],
      ['holdout (never tuned on)', measure(holdout)],
      ['all', measure(corpus)],
    ];
    const table = rows
      .map(
        ([name, f]) =>
          `| ${name} | ${f.n} | ${f.tp} | ${f.fp} | ${f.fn} | ${f.tn} | ${f.precision.toFixed(2)} | ${f.recall.toFixed(2)} |`,
      )
      .join('\n');
    console.log(
      `prompt-injection heuristics at threshold ${THRESHOLD}\n| split | n | tp | fp | fn | tn | precision | recall |\n|---|---:|---:|---:|---:|---:|---:|---:|\n${table}`,
    );
    const [tuning, held] = [rows[0]![1], rows[1]![1]];
    // Floors set at what was measured (tuning 1.00 / 0.95, holdout 1.00 / 0.30), not above.
    expect(tuning.precision).toBeGreaterThanOrEqual(0.95);
    expect(tuning.recall).toBeGreaterThanOrEqual(0.9);
    expect(held.precision).toBeGreaterThanOrEqual(0.9);
    expect(held.recall).toBeGreaterThanOrEqual(0.25);
  });

  it('loses nothing in the anchor pass: each text scores the same through it as with every signal run', () => {
    for (const example of corpus) {
      const all = scoreEverySignal(example.text, example.kind).score;
      expect([example.text, scorePieces([example]).score.score]).toEqual([example.text, all]);
      expect([example.text, scoreInjection(example.text, example.kind).score]).toEqual([example.text, all]);
    }
  });
});
