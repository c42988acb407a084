// Keeps the redaction benchmark runnable: a short run must print every row and its verdict line.
// No figure is asserted here (a shared CI machine makes them noise); `make bench-redaction` is
// where the numbers come from.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';

describe('bench/redaction.ts', () => {
  it('runs end to end briefly and prints the whole table', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [new URL('./redaction.ts', import.meta.url).pathname],
        { env: { PATH: process.env.PATH ?? '', BENCH_SECONDS: '0.5' }, timeout: 60_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    for (const row of [
      'raw pass-through (one copy of the bytes)',
      'JSON parse + serialise (baseline)',
      'redaction on',
      'policy defaults (redaction + guards)',
      'redaction on, bodies without PII',
    ])
      expect(stdout).toContain(`| ${row} |`);
    expect(stdout).toMatch(
      /redaction on vs parse \+ serialise: \d+\.\d\d× \(target ≥ 0\.7×: (met|NOT met)\)/,
    );
  });
});
