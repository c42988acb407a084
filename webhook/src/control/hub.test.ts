import { describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { PolicyBundle } from '../../../api/src/bundle.ts';
import { SidecarHub } from './hub.ts';

/** A stand-in for the HTTP response: records what the hub writes. */
function fakeResponse(): ServerResponse & { text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return Object.assign(stream, {
    writeHead: () => stream,
    flushHeaders: () => undefined,
    text: () => text,
  }) as unknown as ServerResponse & { text(): string };
}

const pod = (uid: string) => ({ namespace: 'team', name: uid, uid, labels: {} });
const bundle = (revision: string, generation: number): PolicyBundle => ({
  revision,
  namespace: 'team',
  pod: 'x',
  policies: [
    { name: 'p', uid: 'policy-1', generation, spec: {} as PolicyBundle['policies'][number]['spec'] },
  ],
  secrets: {},
  missingSecrets: [],
});

describe('SidecarHub', () => {
  it('counts pods and acknowledgements per policy generation', () => {
    const hub = new SidecarHub();
    const a = fakeResponse();
    hub.open(pod('a'), a, Date.now() + 60_000);
    hub.open(pod('b'), fakeResponse(), Date.now() + 60_000);
    expect(hub.push('a', bundle('r1', 1))).toBe(true);
    expect(hub.push('a', bundle('r1', 1))).toBe(false); // same revision: not resent
    hub.push('b', bundle('r1', 1));
    hub.ack('a', 'r1');
    expect(hub.enforcement(new Map([['policy-1', 1]])).get('policy-1')).toEqual({
      generation: 1,
      pods: 2,
      acknowledged: 1,
    });

    // A new generation: a's old acknowledgement no longer counts.
    hub.push('a', bundle('r2', 2));
    expect(hub.enforcement(new Map([['policy-1', 2]])).get('policy-1')).toEqual({
      generation: 2,
      pods: 2,
      acknowledged: 0,
    });
    hub.ack('a', 'r2');
    expect(hub.enforcement(new Map([['policy-1', 2]])).get('policy-1')?.acknowledged).toBe(1);
    expect(a.text()).toContain('event: bundle\nid: r2\ndata: {');
    hub.closeAll();
    expect(hub.size).toBe(0);
  });

  it('refuses acknowledgements of revisions it never sent, or without a stream', () => {
    const hub = new SidecarHub();
    hub.open(pod('a'), fakeResponse(), Date.now() + 60_000);
    hub.push('a', bundle('r1', 1));
    expect(() => hub.ack('a', 'forged')).toThrow(expect.objectContaining({ code: 'UNKNOWN_REVISION' }));
    expect(() => hub.ack('nobody', 'r1')).toThrow(expect.objectContaining({ code: 'NOT_CONNECTED' }));
    hub.closeAll();
  });

  it('ends a stream when its token expires, so the sidecar reconnects with a fresh one', async () => {
    const hub = new SidecarHub();
    const res = fakeResponse();
    let ended = false;
    res.on('finish', () => (ended = true));
    hub.open(pod('a'), res, Date.now() + 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(hub.size).toBe(0);
    expect(ended).toBe(true);
  });
});
