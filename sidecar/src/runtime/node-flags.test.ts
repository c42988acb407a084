import { expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SIDECAR_NODE_FLAGS } from './node-flags.ts';

// The image's ENTRYPOINT is held to the same flags in hack/images.test.ts, make bench imports them.
it('the #! line that npx chaperone-proxy runs passes the sidecar flags to node', () => {
  const main = readFileSync(new URL('../main.ts', import.meta.url), 'utf8');
  expect(main.split('\n')[0]).toBe(`#!/usr/bin/env -S node ${SIDECAR_NODE_FLAGS.join(' ')}`);
});
