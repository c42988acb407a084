// Local HTTPS servers that speak the real wire formats of AI providers, for tests that drive the
// official SDKs. Loopback only; every request is recorded (method, path, headers, body) so tests
// can assert what actually left the sidecar. Scenarios are chosen by model name (`mock-...`), the
// one thing an SDK-driven app controls, or by `next()` for in-process tests.
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mockPki } from './pki.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the mock does with a request; return false to fall through to the default handler. */
export type Behaviour = (req: RecordedRequest, res: ServerResponse) => void | boolean;

export interface MockProviderOptions {
  /** Credentials the mock accepts (exact header values are checked per API). */
  acceptKeys: string[];
  /** Delay between streamed events, ms (default 5). */
  streamDelayMs?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
}

export interface MockProvider {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Handles the next request(s) with `behaviour` instead of the API (once, unless `times`). */
  next(behaviour: Behaviour, times?: number): void;
  /** Sockets currently open to the mock (for disconnect and pooling assertions). */
  openSockets(): number;
  /** TLS connections accepted so far. */
  connections: number;
  /** Requests aborted by the client before the mock finished its response. */
  aborted: number;
  close(): Promise<void>;
}

export type ApiHandler = (
  req: RecordedRequest,
  res: ServerResponse,
  ctx: { acceptKeys: string[]; streamDelayMs: number; onAbort: () => void; socket: Socket },
) => void;

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Streams SSE frames one by one with a delay; stops if the client goes away. */
export async function streamEvents(
  res: ServerResponse,
  frames: string[],
  delayMs: number,
  options: { failAfter?: number } = {},
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  for (const [i, frame] of frames.entries()) {
    if (res.destroyed) return;
    if (options.failAfter !== undefined && i === options.failAfter) {
      res.socket?.destroy();
      return;
    }
    res.write(frame);
    await new Promise((r) => setTimeout(r, delayMs));
  }
  res.end();
}

export async function startMockProvider(
  api: ApiHandler,
  options: MockProviderOptions,
): Promise<MockProvider> {
  const pki = await mockPki();
  const requests: RecordedRequest[] = [];
  const queue: { behaviour: Behaviour; times: number }[] = [];
  const sockets = new Set<Socket>();
  const state = { aborted: 0, connections: 0 };
  const server: Server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    void readAll(req).then((body) => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
      };
      requests.push(recorded);
      let finished = false;
      res.on('finish', () => (finished = true));
      res.on('close', () => {
        if (!finished) state.aborted++;
      });
      const head = queue[0];
      if (head) {
        if (--head.times <= 0) queue.shift();
        if (head.behaviour(recorded, res) !== false) return;
      }
      api(recorded, res, {
        acceptKeys: options.acceptKeys,
        streamDelayMs: options.streamDelayMs ?? 5,
        onAbort: () => state.aborted++,
        socket: req.socket,
      });
    });
  });
  const raw = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    raw.add(socket);
    socket.on('close', () => raw.delete(socket));
  });
  server.on('secureConnection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://localhost:${port}`,
    port,
    requests,
    get aborted() {
      return state.aborted;
    },
    get connections() {
      return state.connections;
    },
    next(behaviour, times = 1) {
      queue.push({ behaviour, times });
    },
    openSockets: () => sockets.size,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of raw) socket.destroy();
      }),
  };
}

/** A few shared scenarios, by model name. Returns true when it handled the request. */
export function commonScenario(model: string, req: RecordedRequest, res: ServerResponse): boolean {
  switch (model) {
    case 'mock-500':
      sendJson(res, 500, { error: { message: 'the mock provider failed', type: 'server_error' } });
      return true;
    case 'mock-redirect':
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' });
      res.end();
      return true;
    case 'mock-echo-auth': {
      // Like a provider quoting the key it rejected: every credential header, verbatim.
      const quoted = ['authorization', 'x-api-key', 'api-key'].map((h) => `${h}=${String(req.headers[h])}`);
      sendJson(
        res,
        401,
        {
          error: {
            message: `Incorrect API key provided: ${quoted.join(' ')}`,
            type: 'invalid_request_error',
          },
        },
        {
          'x-echo-auth': quoted.join(' '),
        },
      );
      return true;
    }
    case 'mock-hang':
      // Never answers: the sidecar's first-byte timeout must end it.
      return true;
    default:
      return false;
  }
}

export function modelOf(req: RecordedRequest): string {
  try {
    const parsed = JSON.parse(req.body) as { model?: unknown };
    return typeof parsed.model === 'string' ? parsed.model : '';
  } catch {
    return '';
  }
}
