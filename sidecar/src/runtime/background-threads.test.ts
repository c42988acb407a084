import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backgroundThreads, lowerBackgroundThreads, type LowerDeps } from './background-threads.ts';

const MODULE = fileURLToPath(new URL('./background-threads.ts', import.meta.url));

describe('backgroundThreads', () => {
  it.each([
    [
      'V8 workers only',
      [
        { tid: 1, name: 'node' },
        { tid: 2, name: 'V8Worker' },
        { tid: 3, name: 'libuv-worker' },
      ],
      [2],
    ],
    [
      'never the main thread, whatever its name',
      [
        { tid: 1, name: 'V8Worker' },
        { tid: 4, name: 'V8Worker' },
      ],
      [4],
    ],
    ['none', [{ tid: 1, name: 'node' }], []],
  ])('%s', (_case, threads, expected) => {
    expect(backgroundThreads(threads, 1)).toEqual(expected);
  });
});

describe('lowerBackgroundThreads', () => {
  const deps = (over: Partial<LowerDeps>): LowerDeps => ({
    list: () => [
      { tid: 10, name: 'node' },
      { tid: 11, name: 'V8Worker' },
      { tid: 12, name: 'V8Worker' },
    ],
    setPriority: () => {},
    mainTid: 10,
    ...over,
  });

  it('sets each worker to the nice value', () => {
    const set: [number, number][] = [];
    const result = lowerBackgroundThreads(19, deps({ setPriority: (tid, nice) => set.push([tid, nice]) }));
    expect(result).toEqual({ ok: true, nice: 19, threads: 2 });
    expect(set).toEqual([
      [11, 19],
      [12, 19],
    ]);
  });

  it('0 leaves every thread alone', () => {
    const set: number[] = [];
    expect(lowerBackgroundThreads(0, deps({ setPriority: (tid) => set.push(tid) }))).toEqual({
      ok: true,
      nice: 0,
      threads: 0,
    });
    expect(set).toEqual([]);
  });

  it('says why when it cannot', () => {
    expect(lowerBackgroundThreads(19, deps({ list: () => [] }))).toEqual({
      ok: false,
      nice: 19,
      reason: 'no V8 worker threads found (no /proc?)',
    });
    const denied = deps({
      setPriority: () => {
        throw new Error('EACCES');
      },
    });
    expect(lowerBackgroundThreads(19, denied)).toEqual({
      ok: false,
      nice: 19,
      reason: 'setpriority: EACCES',
    });
  });
});

// The real thing, in a Node process of its own: its V8 workers end at nice 19, its main thread at 0.
(existsSync('/proc/self/task') ? it : it.skip)(
  'lowers the V8 workers of a real Node process, not its main thread',
  () => {
    const script = `
    import { lowerBackgroundThreads, listThreads } from ${JSON.stringify(MODULE)};
    import { readFileSync } from 'node:fs';
    const result = lowerBackgroundThreads(19);
    const nice = (tid) => Number(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8').split(') ')[1].split(' ')[16]);
    console.log(JSON.stringify({ result, threads: listThreads().map((t) => ({ ...t, nice: nice(t.tid) })), pid: process.pid }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const { result, threads, pid } = JSON.parse(run.stdout) as {
      result: { ok: boolean; threads: number };
      threads: { tid: number; name: string; nice: number }[];
      pid: number;
    };
    const workers = threads.filter((t) => t.name === 'V8Worker');
    expect(workers.length).toBeGreaterThan(0);
    expect(result).toEqual({ ok: true, nice: 19, threads: workers.length });
    expect(workers.map((t) => t.nice)).toEqual(workers.map(() => 19));
    expect(threads.find((t) => t.tid === pid)?.nice).toBe(0);
  },
);
