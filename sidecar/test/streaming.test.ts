// Streams, failures and time limits on real sockets: chunks forwarded as they arrive (proved with a
// mock that waits for the test before sending the next one), backpressure, cancellation, streams
// that break, the three timeouts, the circuit breaker and kill switches cutting what is in flight.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { eventually } from '../../test/helpers/eventually.ts';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { mockProvider, provider } from './policies.ts';
import { httpCall, startHarness, type Harness } from './harness.ts';

const KEY = 'sk-stream-secret-42';
let mock: MockProvider;
let ca: string;
let blackhole: Server;
const held: Socket[] = [];

interface Streamed {
  status: number;
  headers: IncomingMessage['headers'];
  /** Resolves with the text received so far once it contains `marker`. */
  waitFor(marker: string): Promise<string>;
  /** Resolves when the response is over: `complete` false when it was cut. */
  done: Promise<{ text: string; complete: boolean }>;
  destroy(): void;
}

function stream(url: string, body: string): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, agent: false },
      (res) => {
        let text = '';
        const waiters: { marker: string; resolve: (t: string) => void }[] = [];
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          for (const w of [...waiters]) if (text.includes(w.marker)) w.resolve(text);
        });
        const done = new Promise<{ text: string; complete: boolean }>((settle) => {
          res.on('close', () => settle({ text, complete: res.complete }));
        });
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          waitFor: (marker) =>
            text.includes(marker)
              ? Promise.resolve(text)
              : new Promise((r) => waiters.push({ marker, resolve: r })),
          done,
          destroy: () => req.destroy(),
        });
      },
    );
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
    req.end(body);
  });
}

const chat = (model: string, stream = true): string =>
  JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'stream please' }] });

/** A mock answer that sends each frame only when the test opens its gate. */
function gated(frames: string[]): {
  behaviour: (req: unknown, res: ServerResponse) => void;
  open: (i: number) => void;
} {
  const gates = frames.map(() => {
    let open!: () => void;
    const promise = new Promise<void>((r) => (open = r));
    return { promise, open };
  });
  return {
    behaviour: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      void (async () => {
        for (const [i, frame] of frames.entries()) {
          await gates[i]!.promise;
          if (res.destroyed) return;
          res.write(frame);
        }
        res.end();
      })();
    },
    open: (i) => gates[i]!.open(),
  };
}

const frame = (n: number): string => `data: {"n":${n},"choices":[{"delta":{"content":"piece-${n}"}}]}\n\n`;

function spec(extra: object = {}): Record<string, unknown> {
  return {
    providers: [
      mockProvider(mock.port, ca, { allowedModels: ['gpt-4o-mini', 'mock-*'], ...extra }),
      provider({
        name: 'blackhole',
        endpoint: `https://blackhole.mock.test:${(blackhole.address() as AddressInfo).port}`,
        allowedCIDRs: ['127.0.0.1/32'],
        caBundle: ca,
        credentials: { secretRef: { name: 'b', key: 'k' } },
      }),
    ],
  };
}

beforeAll(async () => {
  ca = (await mockPki()).ca;
  mock = await startOpenAiMock({ acceptKeys: [KEY] });
  // Accepts TCP and never speaks TLS: a connect (handshake) timeout.
  blackhole = createServer((socket) => held.push(socket));
  await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => blackhole.close(() => r()));
  await mock.close();
});

describe('streaming', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      resolver: { '*.mock.test': ['127.0.0.1'] },
      timeouts: { connectMs: 500, idleMs: 500 },
    });
    h.setPolicy(spec(), { openai: KEY, blackhole: 'k' });
  });
  afterAll(() => h.close());

  it('forwards each SSE chunk as it arrives, before the provider sends the next', async () => {
    const frames = [frame(0), frame(1), frame(2), 'data: [DONE]\n\n'];
    const { behaviour, open } = gated(frames);
    mock.next(behaviour);
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('gpt-4o-mini'));
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream');
    for (let i = 0; i < frames.length; i++) {
      open(i);
      // The mock has not been allowed to write frame i+1 yet: frame i got through on its own.
      const text = await s.waitFor(frames[i]!);
      expect(text.endsWith(frames[i]!)).toBe(true);
    }
    expect(await s.done).toEqual({ text: frames.join(''), complete: true });
  });

  it('respects backpressure: a client that stops reading stops the provider', async () => {
    let written = 0;
    let finished = false;
    mock.next((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      const pump = (): void => {
        while (!res.destroyed && written < 512 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        finished = true;
        res.end();
      };
      pump();
    });
    const client = netConnect(h.sidecar.ports.providers, '127.0.0.1');
    const body = chat('gpt-4o-mini', false);
    client.write(
      `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    client.pause();
    // Let the pipes fill, until the provider has been stalled for a while.
    let previous = -1;
    await eventually(
      'the provider to stall',
      async () => {
        await new Promise((r) => setTimeout(r, 150));
        const stalled = written > 0 && written === previous;
        previous = written;
        return stalled ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    expect(finished).toBe(false);
    expect(written).toBeLessThan(64 * 1024 * 1024);
    const aborted = mock.aborted;
    client.destroy();
    await eventually('the upstream response to be cancelled', () =>
      Promise.resolve(mock.aborted > aborted ? true : undefined),
    );
  });

  it('cancels the upstream request when the app disconnects mid-stream', async () => {
    const { behaviour, open } = gated([frame(0), frame(1), 'data: [DONE]\n\n']);
    mock.next(behaviour);
    const aborted = mock.aborted;
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('gpt-4o-mini'));
    open(0);
    await s.waitFor(frame(0));
    s.destroy();
    await eventually('the provider to see the cancellation', () =>
      Promise.resolve(mock.aborted > aborted ? true : undefined),
    );
    const audit = await eventually('the audit line', () =>
      Promise.resolve(h.audits().find((l) => l.requestId === s.headers['x-chaperone-request-id'])),
    );
    expect(audit).toMatchObject({ result: 'allow', stream: true, 'http.response.status_code': 200 });
    expect(audit.interrupted).toBe('the app closed the connection; the upstream request was cancelled');
  });

  it('ends an SSE stream that breaks upstream with an error event and a cut connection', async () => {
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('mock-fail-midstream'));
    const { text, complete } = await s.done;
    expect(complete).toBe(false);
    expect(text).toContain('"content":"Hello "');
    const error = /event: error\ndata: (.*)\n\n$/.exec(text);
    expect(error).not.toBeNull();
    expect(JSON.parse(error![1]!)).toMatchObject({
      type: 'error',
      error: { type: 'upstream_error', code: 'UPSTREAM_ERROR' },
      code: 'UPSTREAM_ERROR',
      provider: 'openai',
      policy: 'test-policy',
    });
  });

  it('cuts a chunked (non-SSE) body that breaks upstream, so the app sees it incomplete', async () => {
    mock.next((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"part":1}\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('gpt-4o-mini'));
    expect(await s.done).toEqual({ text: '{"part":1}\n', complete: false });
  });

  it('ends a stream that goes silent after the idle timeout', async () => {
    mock.next((_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(frame(0));
    });
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('gpt-4o-mini'));
    const { text, complete } = await s.done;
    expect(complete).toBe(false);
    expect(text.startsWith(frame(0))).toBe(true);
    expect(text).toMatch(/event: error\ndata: .*UND_ERR_BODY_TIMEOUT/);
  });

  it('refuses with UPSTREAM_ERROR when the TLS handshake does not finish in time', async () => {
    const r = await httpCall(h.endpoint('/blackhole/v1/models'));
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'UPSTREAM_ERROR', provider: 'blackhole' });
    expect((JSON.parse(r.body) as { reason: string }).reason).toMatch(/Connect Timeout|CONNECT_TIMEOUT/);
  });
});

describe('first-byte timeout and circuit breaker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ resolver: { '*.mock.test': ['127.0.0.1'] } });
  });
  afterAll(() => h.close());

  it("refuses with UPSTREAM_ERROR when no response headers arrive within the breaker's timeout", async () => {
    h.setPolicy(spec({ circuitBreaker: { timeoutSeconds: 1 } }), { openai: KEY, blackhole: 'k' });
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('mock-hang', false),
    });
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect((JSON.parse(r.body) as { reason: string }).reason).toMatch(/UND_ERR_HEADERS_TIMEOUT/);
  });

  it('opens after repeated 5xx, refuses with CIRCUIT_OPEN, and closes after a good half-open probe', async () => {
    h.setPolicy(
      spec({ circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetSeconds: 1 } }),
      {
        openai: KEY,
        blackhole: 'k',
      },
    );
    const post = (model: string): Promise<{ status: number; body: string }> =>
      httpCall(h.endpoint('/openai/v1/chat/completions'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat(model, false),
      });
    expect((await post('mock-500')).status).toBe(500);
    expect((await post('mock-500')).status).toBe(500);
    const before = mock.requests.length;
    const open = await post('gpt-4o-mini');
    expect(open.status).toBe(503);
    expect(JSON.parse(open.body)).toMatchObject({
      code: 'CIRCUIT_OPEN',
      rule: 'spec.providers[0].circuitBreaker',
    });
    expect(mock.requests.length).toBe(before);
    const status = JSON.parse((await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/status`)).body) as {
      providers: { name: string; breaker: string }[];
    };
    expect(status.providers[0]).toMatchObject({ name: 'openai', breaker: 'open' });
    const metrics = (await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/metrics`)).body;
    expect(metrics).toContain('chaperone_circuit_breaker_state{provider="openai"} 2');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await post('gpt-4o-mini')).status).toBe(200);
    const after = JSON.parse((await httpCall(`http://127.0.0.1:${h.sidecar.ports.admin}/status`)).body) as {
      providers: { breaker: string }[];
    };
    expect(after.providers[0]!.breaker).toBe('closed');
  });
});

describe('kill switches', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ resolver: { '*.mock.test': ['127.0.0.1'] } });
    h.setPolicy(spec(), { openai: KEY, blackhole: 'k' });
  });
  afterAll(() => h.close());

  it('refuses new requests and cuts a stream already flowing', async () => {
    const { behaviour, open } = gated([frame(0), frame(1), 'data: [DONE]\n\n']);
    mock.next(behaviour);
    const aborted = mock.aborted;
    const s = await stream(h.endpoint('/openai/v1/chat/completions'), chat('gpt-4o-mini'));
    open(0);
    await s.waitFor(frame(0));
    h.setPolicy(spec({ killSwitch: true }), { openai: KEY, blackhole: 'k' });
    const { text, complete } = await s.done;
    expect(complete).toBe(false);
    expect(text).toMatch(/event: error\ndata: .*"code":"KILL_SWITCH_ENGAGED"/);
    await eventually('the provider to see the cancellation', () =>
      Promise.resolve(mock.aborted > aborted ? true : undefined),
    );
    const r = await httpCall(h.endpoint('/openai/v1/chat/completions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat('gpt-4o-mini', false),
    });
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toMatchObject({
      code: 'KILL_SWITCH_ENGAGED',
      rule: 'spec.providers[0].killSwitch',
    });
    h.setPolicy(spec(), { openai: KEY, blackhole: 'k' });
  });

  it('closes an open CONNECT tunnel when the policy kill switch is thrown', async () => {
    const socket = netConnect(h.sidecar.ports.forwardProxy, '127.0.0.1');
    socket.write(`CONNECT openai.mock.test:${mock.port} HTTP/1.1\r\n\r\n`);
    await new Promise<void>((resolve) =>
      socket.once('data', (d: Buffer) => {
        expect(d.toString()).toMatch(/^HTTP\/1\.1 200/);
        resolve();
      }),
    );
    const tls = tlsConnect({ socket, servername: 'openai.mock.test', ca });
    await new Promise<void>((r) => tls.once('secureConnect', () => r()));
    const closed = new Promise<void>((r) => tls.once('close', () => r()));
    h.setPolicy({ ...spec(), killSwitch: true }, { openai: KEY, blackhole: 'k' });
    await closed;
    const audit = await eventually('the tunnel audit line', () =>
      Promise.resolve(h.audits().find((l) => l.via === 'connect' && l.code === 'KILL_SWITCH_ENGAGED')),
    );
    expect(audit).toMatchObject({ rule: 'spec.killSwitch', 'server.address': 'openai.mock.test' });
    expect(audit.interrupted).toMatch(/kill switch of policy test-policy is engaged/);
    h.setPolicy(spec(), { openai: KEY, blackhole: 'k' });
  });
});
