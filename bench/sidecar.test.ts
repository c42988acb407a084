// Keeps the sidecar benchmark runnable: a tiny run must produce every row of the table and serve
// the fixed-rate phase without errors. No timing is asserted (figures on a shared CI machine mean
// little); `make bench-sidecar` is where the numbers come from.
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';

describe('bench/sidecar.ts', () => {
  it('runs end to end at a tiny scale and prints the whole table', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [new URL('./sidecar.ts', import.meta.url).pathname],
        {
          env: { PATH: process.env.PATH ?? '', BENCH_SCALE: '0.02', BENCH_FROM_SOURCE: '1' },
          timeout: 60_000,
        },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    for (const row of [
      'one at a time, p50 (ms)',
      '1000 rps / 16 conns, p99 (ms)',
      'max rps with p99 < 10 ms',
      'closed loop, 16 in flight (rps)',
      'proxy CPU per request, closed loop (µs)',
      'SSE time to first byte, p99 (ms)',
      'RSS idle (MB)',
    ])
      expect(stdout).toContain(`| ${row} |`);
    expect(stdout).toMatch(/\| 1000 rps errors \| 0 \| 0 \| 0 \|/);
    expect(stdout).toContain('sidecar/src/main.ts (type-stripped');
  }, 90_000);
});
