import { expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SIDECAR_NODE_FLAGS } from './node-flags.ts';

// The image's ENTRYPOINT is held to the same flags in hack/images.test.ts, make bench imports them.
it('the #! line that npx chaperone-proxy runs passes the sidecar flags to node', () => {
  const main = readFileSync(new URL('../main.ts', import.meta.url), 'utf8');
  expect(main.split('\n')[0]).toBe(`#!/usr/bin/env -S node ${SIDECAR_NODE_FLAGS.join(' ')}`);
});

it('Node takes the flags: the young generation is 8 MB a semi-space from the start', () => {
  const run = spawnSync(
    process.execPath,
    [
      ...SIDECAR_NODE_FLAGS,
      '-e',
      "const s = require('v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); console.log(s.space_size)",
    ],
    { encoding: 'utf8' },
  );
  expect(run.stderr).toBe('');
  expect(Number(run.stdout)).toBe(8 * 1024 * 1024);
});
