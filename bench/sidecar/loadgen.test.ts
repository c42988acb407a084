// bench/loadgen's contract as the bench reads it: the JSON it is given for each kind of target, and
// its printed results (recorded from real runs) turned into the figures the bench records.
import { afterEach, describe, expect, it } from '@jest/globals';
import { fixedRate, target } from './load.ts';
import {
  HARNESS_STALL_MS,
  loadGenerator,
  loadgenConfig,
  parseLoadgenResult,
  withoutHarnessStalls,
  type RateRunner,
} from './loadgen.ts';

const CA = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';

describe('loadgenConfig', () => {
  it.each([
    [
      'direct: HTTPS with the mock CA',
      target('direct', 'https://localhost:4443', '/v1/chat/completions', { ca: CA, connections: 16 }),
      { url: 'https://localhost:4443/v1/chat/completions', ca: CA },
    ],
    [
      'base URL proxy: plain HTTP, a path prefix',
      target('chaperone', 'http://127.0.0.1:8080', '/openai/v1/chat/completions', { connections: 16 }),
      { url: 'http://127.0.0.1:8080/openai/v1/chat/completions' },
    ],
    [
      'forward proxy: a CONNECT tunnel to the mock, TLS through it',
      target('smokescreen', 'https://localhost:4443', '/v1/chat/completions', {
        ca: CA,
        proxy: 'http://127.0.0.1:4750',
        connections: 16,
      }),
      { url: 'https://localhost:4443/v1/chat/completions', ca: CA, proxy: 'http://127.0.0.1:4750' },
    ],
  ])('%s', (_, t, expected) => {
    expect(loadgenConfig(t, 1000, 3000)).toEqual({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer app-placeholder' },
      body: t.body,
      connections: 16,
      rate: 1000,
      durationMs: 3000,
      ...expected,
    });
  });

  it('carries the extra headers and the body the target sends', () => {
    const t = target('Portkey', 'http://127.0.0.1:8787', '/v1/chat/completions', {
      connections: 8,
      headers: { 'x-portkey-provider': 'openai' },
      body: '{"model":"m"}',
    });
    const c = loadgenConfig(t, 100, 2000);
    expect(c.headers['x-portkey-provider']).toBe('openai');
    expect(c.body).toBe('{"model":"m"}');
    expect(c.connections).toBe(8);
  });
});

describe('parseLoadgenResult', () => {
  it.each([
    [
      'four requests at 4 rps, all answered',
      '{"requests":4,"errors":0,"elapsedMs":751.117,"latencyUs":[1202,1359,1400,1117],"sendLateUs":[111,133,133]}\n',
      {
        latencies: [1.202, 1.359, 1.4, 1.117],
        errors: 0,
        achieved: 4 / 0.751117,
        sendLateMs: { p50: 0.111, p99: 0.133, max: 0.133 },
      },
    ],
    [
      'a target that refuses connections: every request an error',
      '{"requests":3,"errors":3,"firstError":"Post \\"https://localhost:1/v1/chat/completions\\": dial tcp 127.0.0.1:1: connect: connection refused","elapsedMs":667.201,"latencyUs":[],"sendLateUs":[86,90,90]}',
      {
        latencies: [],
        errors: 3,
        achieved: 3 / 0.667201,
        sendLateMs: { p50: 0.086, p99: 0.09, max: 0.09 },
      },
    ],
    [
      'some errors among answers',
      '{"requests":3,"errors":1,"firstError":"status 503","elapsedMs":1000,"latencyUs":[500,20000],"sendLateUs":[0,0,0]}',
      { latencies: [0.5, 20], errors: 1, achieved: 3, sendLateMs: { p50: 0, p99: 0, max: 0 } },
    ],
  ])('%s', (_, stdout, expected) => {
    const r = parseLoadgenResult(stdout);
    expect(r.latencies).toEqual(expected.latencies);
    expect(r.errors).toBe(expected.errors);
    expect(r.achieved).toBeCloseTo(expected.achieved, 9);
    expect(r.sendLateMs).toEqual(expected.sendLateMs);
  });

  it.each([
    ['nothing printed', '', /printed no JSON result/],
    ['a Go panic', 'panic: runtime error\n\ngoroutine 1', /printed no JSON result/],
    [
      'latencies in a string',
      '{"requests":1,"errors":0,"elapsedMs":1,"latencyUs":"1","sendLateUs":[0,0,0]}',
      /lacks a field or has one of the wrong type/,
    ],
    [
      'no sendLateUs',
      '{"requests":1,"errors":0,"elapsedMs":1,"latencyUs":[1]}',
      /lacks a field or has one of the wrong type/,
    ],
    [
      'a negative latency',
      '{"requests":1,"errors":0,"elapsedMs":1,"latencyUs":[-1],"sendLateUs":[0,0,0]}',
      /lacks a field or has one of the wrong type/,
    ],
    [
      'requests unaccounted for',
      '{"requests":5,"errors":1,"elapsedMs":1,"latencyUs":[1,2],"sendLateUs":[0,0,0]}',
      /accounted for 2 latencies and 1 errors of 5 requests/,
    ],
  ])('refuses %s', (_, stdout, message) => {
    expect(() => parseLoadgenResult(stdout)).toThrow(message);
  });
});

describe('withoutHarnessStalls', () => {
  const t = target('direct', 'https://localhost:4443', '/v1/chat/completions', { connections: 16 });
  /** A generator whose successive runs stalled by these many ms (undefined: it does not say). */
  const runner = (stalls: (number | undefined)[]): RateRunner & { calls: number } => {
    const r = Object.assign(
      () => {
        const max = stalls[r.calls++];
        return Promise.resolve({
          latencies: [r.calls],
          errors: 0,
          achieved: 1000,
          ...(max === undefined ? {} : { sendLateMs: { p50: 0.03, p99: 0.1, max } }),
        });
      },
      { calls: 0 },
    );
    return r;
  };

  it.each([
    ['no stall: one run', [4], 0, 1],
    ['a stall, then none: the second run is kept', [HARNESS_STALL_MS + 4, 3], 1, 2],
    ['exactly the threshold is no stall', [HARNESS_STALL_MS], 0, 1],
    ['stalls every time: the third run is kept all the same', [12, 20, 30, 2], 2, 3],
    ['the Node generator does not say: one run', [undefined], 0, 1],
  ])('%s', async (_, stalls, reruns, calls) => {
    const run = runner(stalls);
    const result = await withoutHarnessStalls(run, t, 1000, 3000);
    expect(result.reruns).toBe(reruns);
    expect(run.calls).toBe(calls);
    expect(result.latencies).toEqual([calls]); // the last run's figures
  });
});

describe('loadGenerator', () => {
  const saved = process.env.BENCH_LOADGEN;
  afterEach(() => {
    if (saved === undefined) delete process.env.BENCH_LOADGEN;
    else process.env.BENCH_LOADGEN = saved;
  });
  const missing = '/nonexistent/bench-peers';

  it.each([
    // bench/sidecar.ts (make bench-sidecar, and make test through it) runs without Go.
    ['not built, optional', undefined, false, 'node'],
    ['not built, BENCH_LOADGEN=node', 'node', true, 'node'],
  ] as const)('%s: the Node generator', (_, env, required, name) => {
    if (env === undefined) delete process.env.BENCH_LOADGEN;
    else process.env.BENCH_LOADGEN = env;
    const g = loadGenerator(missing, required);
    expect(g.name).toBe(name);
    expect(g.run).toBe(fixedRate);
  });

  it.each([
    ['make bench without it built', undefined, true],
    ['BENCH_LOADGEN=native without it built', 'native', false],
  ] as const)('%s: refuses to fall back', (_, env, required) => {
    if (env === undefined) delete process.env.BENCH_LOADGEN;
    else process.env.BENCH_LOADGEN = env;
    expect(() => loadGenerator(missing, required)).toThrow(
      'no /nonexistent/bench-peers/bin/loadgen: run hack/bench-peers.sh',
    );
  });
});
