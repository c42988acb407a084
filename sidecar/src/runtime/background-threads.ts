// V8 does its concurrent marking and sweeping, the helpers of each scavenge and its optimising
// compiles on its own worker threads. Where the sidecar has one core (a CPU limit, or pinned as in
// `make bench`), those threads and the event loop take turns in whole scheduler slices: the loop
// waited up to 20 ms at a time while the workers marked, and every request that arrived meanwhile
// waited with it. That was most of the added p99 at 1000 rps. Niced, the workers run when the loop
// waits for I/O and yield to it when it has work. Nothing else changes: the same threads do the
// same work. A higher nice value is a lower priority, which any process may set for its own threads.
import { readFileSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface Thread {
  tid: number;
  /** The kernel's thread name (`comm`): V8 names its workers `V8Worker`. */
  name: string;
}

/** The threads to lower: V8's workers, never the thread running JavaScript. */
export function backgroundThreads(threads: readonly Thread[], mainTid: number): number[] {
  return threads.filter((t) => t.tid !== mainTid && t.name.startsWith('V8Worker')).map((t) => t.tid);
}

/** This process's threads from /proc (Linux); none where there is no /proc. */
export function listThreads(taskDir = '/proc/self/task'): Thread[] {
  let tids: string[];
  try {
    tids = readdirSync(taskDir);
  } catch {
    return [];
  }
  return tids.flatMap((tid) => {
    try {
      return [{ tid: Number(tid), name: readFileSync(`${taskDir}/${tid}/comm`, 'utf8').trim() }];
    } catch {
      return []; // the thread ended while listing
    }
  });
}

export type Lowered =
  { ok: true; nice: number; threads: number } | { ok: false; nice: number; reason: string };

export interface LowerDeps {
  list: () => Thread[];
  setPriority: (tid: number, nice: number) => void;
  mainTid: number;
}

const realDeps: LowerDeps = { list: () => listThreads(), setPriority, mainTid: process.pid };

/** Sets V8's worker threads to `nice` (1–19; 0 leaves them alone). Never throws: says what happened. */
export function lowerBackgroundThreads(nice: number, deps: LowerDeps = realDeps): Lowered {
  if (nice === 0) return { ok: true, nice, threads: 0 };
  const tids = backgroundThreads(deps.list(), deps.mainTid);
  if (tids.length === 0) return { ok: false, nice, reason: 'no V8 worker threads found (no /proc?)' };
  try {
    for (const tid of tids) deps.setPriority(tid, nice);
  } catch (err) {
    return { ok: false, nice, reason: `setpriority: ${(err as Error).message}` };
  }
  return { ok: true, nice, threads: tids.length };
}
