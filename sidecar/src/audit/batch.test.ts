import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LineBatcher, type BufferSink } from './batch.ts';

function sink(): BufferSink & { chunks: Buffer[]; flushes: number; text: () => string } {
  const chunks: Buffer[] = [];
  const s = {
    chunks,
    flushes: 0,
    write(chunk: Buffer): boolean {
      chunks.push(Buffer.from(chunk)); // copied: the batcher must not reuse a buffer it handed on
      return true;
    },
    flush(cb?: (err?: Error | null) => void): void {
      s.flushes++;
      cb?.();
    },
    flushSync(): void {
      s.flushes++;
    },
    text: (): string => Buffer.concat(chunks).toString('utf8'),
  };
  return s;
}

describe('LineBatcher', () => {
  it('holds lines until a 64 KiB buffer would overflow, then hands on whole lines in order', () => {
    const out = sink();
    const batcher = new LineBatcher(out);
    const lines = Array.from({ length: 200 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(600)}"}\n`);
    for (const line of lines) batcher.write(line);
    // ~125 KiB of lines: at least one full buffer went on, the rest waits for a flush.
    expect(out.chunks.length).toBeGreaterThanOrEqual(1);
    expect(out.text().length).toBeLessThan(lines.join('').length);
    for (const chunk of out.chunks) expect(chunk.toString('utf8').endsWith('\n')).toBe(true);
    batcher.flush();
    expect(out.text()).toBe(lines.join(''));
  });

  it('encodes multi-byte characters without splitting them across buffers', () => {
    const out = sink();
    const batcher = new LineBatcher(out);
    const lines = Array.from({ length: 3000 }, (_, i) => `{"n":${i},"text":"Grüße, 東京 🚀 ${i}"}\n`);
    for (const line of lines) batcher.write(line);
    batcher.flushSync();
    expect(out.chunks.length).toBeGreaterThan(1);
    expect(out.text()).toBe(lines.join(''));
  });

  it('passes a line larger than a buffer on by itself, after what came before it', () => {
    const out = sink();
    const batcher = new LineBatcher(out);
    const big = `{"big":"${'é'.repeat(40_000)}"}\n`;
    batcher.write('{"n":1}\n');
    batcher.write(big);
    batcher.write('{"n":2}\n');
    batcher.flush();
    expect(out.text()).toBe(`{"n":1}\n${big}{"n":2}\n`);
  });

  it('calls back once the sink has flushed, and flushes nothing twice', () => {
    const out = sink();
    const batcher = new LineBatcher(out);
    batcher.write('{"n":1}\n');
    let called = false;
    batcher.flush(() => (called = true));
    batcher.flush();
    expect(called).toBe(true);
    expect(out.chunks).toHaveLength(1);
    expect(out.flushes).toBe(2);
  });
});

describe('the stdout destination', () => {
  it('loses no line when the process exits without flushing', () => {
    const log = fileURLToPath(new URL('./log.ts', import.meta.url));
    const script = `
      import { createLogger } from ${JSON.stringify(log)};
      const logger = createLogger();
      logger.info({ big: 'x'.repeat(100000) }, 'big');
      for (let i = 0; i < 5000; i++) logger.info({ n: i, text: 'Grüße 🚀' }, 'line');
      process.exit(0); // the last lines are still in the batch
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(5001);
    const parsed = lines.map((l) => JSON.parse(l) as { n?: number; text?: string; big?: string });
    expect(parsed[0]!.big).toHaveLength(100_000);
    expect(parsed.slice(1).map((p) => p.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(parsed[5000]!.text).toBe('Grüße 🚀');
  });
});
