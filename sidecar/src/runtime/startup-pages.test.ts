import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import {
  droppableMappings,
  parseSmaps,
  trimStartupPages,
  type PageTrimAddon,
  type TrimDeps,
} from './startup-pages.ts';

// /proc/PID/smaps as Linux writes it, fields cut to those read and a few others.
const mapping = (header: string, rssKb: number, anonymousKb: number, flags: string): string =>
  `${header}
Size:               9999 kB
Rss:                ${String(rssKb).padStart(4)} kB
Private_Dirty:         0 kB
Anonymous:          ${String(anonymousKb).padStart(4)} kB
Locked:                0 kB
THPeligible:           0
VmFlags: ${flags} `;

const SMAPS = [
  mapping(
    '00400000-00a00000 r--p 00000000 fe:00 1001                       /usr/bin/node',
    4096,
    0,
    'rd mr mw me',
  ),
  mapping(
    '00a00000-03a00000 r-xp 00600000 fe:00 1001                       /usr/bin/node',
    20000,
    0,
    'rd ex mr mw me',
  ),
  mapping(
    '03a00000-03a10000 r--p 03600000 fe:00 1001                       /usr/bin/node',
    64,
    12,
    'rd mr mw me ac',
  ),
  mapping(
    '03a10000-03a20000 rw-p 03610000 fe:00 1001                       /usr/bin/node',
    64,
    64,
    'rd wr mr mw me ac',
  ),
  mapping(
    '04000000-05000000 rw-p 00000000 00:00 0                          [heap]',
    8000,
    8000,
    'rd wr mr mw me ac',
  ),
  mapping('7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ', 1024, 1024, 'rd wr mr mw me ac'),
  mapping(
    '7f0000100000-7f0000200000 r--s 00000000 fe:00 2002               /var/cache/shared.db',
    512,
    0,
    'rd mr me ms',
  ),
  mapping(
    '7f0000200000-7f0000300000 r-xp 00000000 00:01 3003               /memfd:doublemapper (deleted)',
    512,
    0,
    'rd ex mr mw me',
  ),
  mapping(
    '7f0000300000-7f0000400000 r-xp 00028000 fe:00 4004               /usr/lib/x86_64-linux-gnu/libc.so.6',
    800,
    0,
    'rd ex mr mw me lo',
  ),
  mapping(
    '7f0000400000-7f0000500000 r--p 00000000 fe:00 5005               /usr/lib/locale/C.utf8/LC_CTYPE',
    0,
    0,
    'rd mr mw me',
  ),
  mapping('7f0000500000-7f0000501000 r--p 00000000 00:05 6                  /dev/zero', 4, 0, 'rd mr mw me'),
  mapping(
    '7f0000600000-7f0000700000 r-xp 00000000 fe:00 7007               /opt/my app/addon.node',
    96,
    0,
    'rd ex mr mw me',
  ),
  mapping(
    '7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                  [vdso]',
    8,
    0,
    'rd ex mr mw me de',
  ),
].join('\n');

describe('parseSmaps', () => {
  it('reads each mapping: range, permissions, path (spaces kept), resident and anonymous sizes, flags', () => {
    const maps = parseSmaps(SMAPS);
    expect(maps).toHaveLength(13);
    expect(maps[1]).toEqual({
      start: 0xa00000n,
      end: 0x3a00000n,
      perms: 'r-xp',
      path: '/usr/bin/node',
      rssKb: 20000,
      anonymousKb: 0,
      flags: ['rd', 'ex', 'mr', 'mw', 'me'],
    });
    expect(maps[5]).toMatchObject({ path: '', anonymousKb: 1024 });
    expect(maps[11]).toMatchObject({ start: 0x7f0000600000n, path: '/opt/my app/addon.node' });
  });
});

describe('droppableMappings', () => {
  it.each([
    ["the binary's read-only data", '/usr/bin/node', 'r--p'],
    ["the binary's code", '/usr/bin/node', 'r-xp'],
    ['a file path with a space', '/opt/my app/addon.node', 'r-xp'],
  ])('drops %s', (_, path, perms) => {
    expect(droppableMappings(parseSmaps(SMAPS)).some((m) => m.path === path && m.perms === perms)).toBe(true);
  });

  it('keeps every other mapping: copied pages, writable, anonymous, shared, memfd, locked, empty, devices, vdso', () => {
    const kept = parseSmaps(SMAPS).filter((m) => !droppableMappings([m]).length);
    expect(kept.map((m) => `${m.perms} ${m.path}`)).toEqual([
      'r--p /usr/bin/node', // relocated after loading: 12 kB of private copies
      'rw-p /usr/bin/node',
      'rw-p [heap]',
      'rw-p ',
      'r--s /var/cache/shared.db',
      'r-xp /memfd:doublemapper (deleted)',
      'r-xp /usr/lib/x86_64-linux-gnu/libc.so.6',
      'r--p /usr/lib/locale/C.utf8/LC_CTYPE',
      'r--p /dev/zero',
      'r-xp [vdso]',
    ]);
    expect(droppableMappings(parseSmaps(SMAPS))).toHaveLength(3);
  });

  it('keeps a mapping whose copied pages smaps does not report', () => {
    const [unsaid] = parseSmaps(
      '00400000-00a00000 r--p 00000000 fe:00 1001   /usr/bin/node\nRss:  4096 kB\n',
    );
    expect(unsaid).toMatchObject({ rssKb: 4096, anonymousKb: NaN });
    expect(droppableMappings([unsaid!])).toEqual([]);
  });

  it("finds this process's node binary code among its own droppable mappings, and no writable one", () => {
    const own = droppableMappings(parseSmaps(readFileSync('/proc/self/smaps', 'utf8')));
    expect(own.some((m) => m.path === process.execPath && m.perms === 'r-xp')).toBe(true);
    expect(own.filter((m) => m.perms.includes('w') || m.anonymousKb > 0)).toEqual([]);
  });
});

describe('trimStartupPages', () => {
  const deps = (addon: PageTrimAddon, rss = [46_000, 6_000]): TrimDeps => ({
    loadAddon: () => addon,
    readSmaps: () => SMAPS,
    rssFileKb: () => rss.shift()!,
  });

  it('asks for each droppable mapping, whole, and reports the file-backed RSS before and after', () => {
    const calls: [bigint, bigint][] = [];
    const trimmed = trimStartupPages(deps({ dontNeed: (start, length) => (calls.push([start, length]), 0) }));
    expect(calls).toEqual([
      [0x400000n, 0x600000n],
      [0xa00000n, 0x3000000n],
      [0x7f0000600000n, 0x100000n],
    ]);
    expect(trimmed).toEqual({
      ok: true,
      mappings: 3,
      failed: 0,
      rssFileBeforeKb: 46_000,
      rssFileAfterKb: 6_000,
    });
  });

  it('counts the ranges madvise refused and goes on', () => {
    let n = 0;
    const trimmed = trimStartupPages(deps({ dontNeed: () => (n++ === 1 ? 22 : 0) }));
    expect(trimmed).toMatchObject({ ok: true, mappings: 3, failed: 1 });
  });

  it('says why when the native function is not there, and touches nothing', () => {
    const trimmed = trimStartupPages({
      ...deps({ dontNeed: () => 0 }),
      loadAddon: () => {
        throw new Error('page-trim.node is not beside the sidecar (make build compiles it)');
      },
    });
    expect(trimmed).toEqual({
      ok: false,
      reason: 'page-trim.node is not beside the sidecar (make build compiles it)',
    });
  });
});
