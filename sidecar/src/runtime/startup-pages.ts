// Start-up touches far more of the node binary than serving requests does: loading and compiling
// modules, deserialising V8's snapshot, the first TLS context. Those pages are file-backed and clean,
// so the kernel could drop them at any time, but until memory runs short they stay mapped and count
// in the sidecar's RSS (45 of its 65 MB idle). Once it listens, the sidecar drops them itself
// (madvise MADV_DONTNEED through sidecar/native/page-trim.c); what requests use comes back from the
// page cache on first touch. Only mappings that cannot hold a private copy of a page are dropped:
// read-only, file-backed and with no anonymous pages, so nothing is lost by reading them back.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Mapping {
  start: bigint;
  end: bigint;
  /** `r-xp`: read, write, execute, private (p) or shared (s). */
  perms: string;
  /** The mapped file, or a pseudo-name (`[heap]`, `[stack]`), or '' for anonymous memory. */
  path: string;
  rssKb: number;
  /**
   * Pages of the mapping that are anonymous: for a private file mapping, copies written to. NaN when
   * smaps does not say, which keeps the mapping.
   */
  anonymousKb: number;
  /** smaps' VmFlags: `lo` locked, `io` and `pf` device memory, `ht` huge TLB pages. */
  flags: string[];
}

// The lines read, and nothing else: a mapping's header, then its Rss, Anonymous and VmFlags fields.
const FIELDS =
  /^(?:([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+ *(.*)|Rss: +(\d+) kB|Anonymous: +(\d+) kB|VmFlags: *(.*))$/gm;

/**
 * Parses /proc/PID/smaps. One pass of one regular expression over the text, matching only the
 * lines it needs: splitting its ~4000 lines at start into strings left the idle sidecar with 2.2 MB
 * more anonymous memory (0.3 MB this way).
 */
export function parseSmaps(text: string): Mapping[] {
  const maps: Mapping[] = [];
  let current: Mapping | undefined;
  for (const m of text.matchAll(FIELDS)) {
    if (m[1] !== undefined) {
      current = {
        start: BigInt(`0x${m[1]}`),
        end: BigInt(`0x${m[2]}`),
        perms: m[3]!,
        path: m[4]!.trimEnd(),
        rssKb: 0,
        anonymousKb: NaN,
        flags: [],
      };
      maps.push(current);
    } else if (current === undefined) continue;
    else if (m[5] !== undefined) current.rssKb = Number(m[5]);
    else if (m[6] !== undefined) current.anonymousKb = Number(m[6]);
    else current.flags = m[7]!.trim().split(' ');
  }
  return maps;
}

const UNDROPPABLE_FLAGS = new Set(['lo', 'io', 'pf', 'ht']);

/**
 * The mappings whose resident pages can be dropped and read back unchanged: a file's pages, mapped
 * read-only and private, none of them copied (a relocated read-only segment is, and stays), resident.
 */
export function droppableMappings(maps: readonly Mapping[]): Mapping[] {
  return maps.filter(
    (m) =>
      m.path.startsWith('/') &&
      !m.path.startsWith('/dev/') &&
      !m.path.startsWith('/memfd:') &&
      m.perms[1] === '-' &&
      m.perms[3] === 'p' &&
      m.anonymousKb === 0 &&
      m.rssKb > 0 &&
      !m.flags.some((f) => UNDROPPABLE_FLAGS.has(f)),
  );
}

export interface PageTrimAddon {
  /** madvise(MADV_DONTNEED): 0, or the errno it failed with. */
  dontNeed(start: bigint, length: bigint): number;
}

export type Trimmed =
  | { ok: true; mappings: number; failed: number; rssFileBeforeKb: number; rssFileAfterKb: number }
  | { ok: false; reason: string };

export interface TrimDeps {
  loadAddon: () => PageTrimAddon;
  readSmaps: () => string;
  rssFileKb: () => number;
}

/**
 * Where make build puts the addon, from these sources (hack/build-native.ts writes it here).
 * Bundled, the sidecar finds it beside main.js, whose module URL this is there (this module must stay
 * in main.js, which hack/bundle-sidecar.ts checks).
 */
export const BUILT_ADDON = new URL('../../../dist/sidecar/src/page-trim.node', import.meta.url);
const ADDON_PLACES = [new URL('./page-trim.node', import.meta.url), BUILT_ADDON];

function loadAddon(): PageTrimAddon {
  const file = ADDON_PLACES.map((url) => fileURLToPath(url)).find((f) => existsSync(f));
  if (file === undefined)
    throw new Error('page-trim.node is not beside the sidecar (make build compiles it)');
  const module = { exports: {} as PageTrimAddon };
  process.dlopen(module, file);
  return module.exports;
}

function rssFileKb(): number {
  return Number(/^RssFile:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

const realDeps: TrimDeps = {
  loadAddon,
  readSmaps: () => readFileSync('/proc/self/smaps', 'utf8'),
  rssFileKb,
};

/** Drops the resident pages of every droppable mapping. Never throws: says what happened. */
export function trimStartupPages(deps: TrimDeps = realDeps): Trimmed {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  let addon: PageTrimAddon;
  let maps: Mapping[];
  try {
    // Loaded before reading the mappings: loading it maps (and relocates) one more file.
    addon = deps.loadAddon();
    maps = droppableMappings(parseSmaps(deps.readSmaps()));
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  const rssFileBeforeKb = deps.rssFileKb();
  let failed = 0;
  for (const m of maps) if (addon.dontNeed(m.start, m.end - m.start) !== 0) failed++;
  return { ok: true, mappings: maps.length, failed, rssFileBeforeKb, rssFileAfterKb: deps.rssFileKb() };
}
