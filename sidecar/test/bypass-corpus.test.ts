// The egress bypass corpus: every vector is sent as raw bytes to a real sidecar on loopback (with a
// scripted resolver standing in for DNS) and must be refused with the specific code and rule. After
// each one, the mock provider must have received nothing new and no refused address been dialled.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { domainToASCII } from 'node:url';
import type { ServerResponse } from 'node:http';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';
import { provider } from './policies.ts';
import { sendRaw, startHarness, type Harness, type RawResponse } from './harness.ts';

const FAMILIES = [
  'numeric-ip',
  'ipv6',
  'wildcard-dns',
  'rebinding',
  'redirect',
  'userinfo',
  'parser-differential',
  'trailing-dot',
  'homoglyph',
  'encoded-path',
  'scheme',
  'port',
  'self-connection',
  'host-sni-mismatch',
] as const;
type Family = (typeof FAMILIES)[number];

interface Env {
  h: Harness;
  mock: MockProvider;
  /** Port of the mock provider (the allowed endpoint port). */
  p: number;
  ports: Harness['sidecar']['ports'];
}

/** What a vector produced: from the HTTP refusal body, or from the audit line (tunnel refusals). */
interface Outcome {
  status: number;
  code: unknown;
  rule: unknown;
  reason: unknown;
  requestId: unknown;
}

interface Vector {
  family: Family;
  name: string;
  send: (env: Env) => Promise<Outcome>;
  status: number;
  code: string;
  rule: string;
  reason?: RegExp;
  /** The request legitimately reached the provider (which answered with a redirect). */
  reachesProvider?: boolean;
}

const fromResponse = (r: RawResponse): Outcome => ({
  status: r.status,
  code: r.json?.code,
  rule: r.json?.rule,
  reason: r.json?.reason,
  requestId: r.json?.requestId,
});

const CRLF = '\r\n';

function endpoint(path: string, init: { method?: string; headers?: string[]; body?: string } = {}) {
  return async ({ ports }: Env): Promise<Outcome> => {
    const body = init.body ?? '';
    const head = [
      `${init.method ?? 'POST'} ${path} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Connection: close',
      ...(init.headers ?? ['Content-Type: application/json']),
      ...(body === '' && (init.method ?? 'POST') === 'GET'
        ? []
        : [`Content-Length: ${Buffer.byteLength(body)}`]),
    ];
    return fromResponse(await sendRaw(ports.providers, head.join(CRLF) + CRLF + CRLF + body));
  };
}

const chat = (model: string): string =>
  JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

function forward(target: string | ((env: Env) => string), headers: string[] | ((env: Env) => string[]) = []) {
  return async (env: Env): Promise<Outcome> => {
    const t = typeof target === 'function' ? target(env) : target;
    const extra = typeof headers === 'function' ? headers(env) : headers;
    const head = [`GET ${t} HTTP/1.1`, ...extra, 'Connection: close'];
    return fromResponse(await sendRaw(env.ports.forwardProxy, head.join(CRLF) + CRLF + CRLF));
  };
}

function connect(authority: string | ((env: Env) => string), headers: string[] = []) {
  return async (env: Env): Promise<Outcome> => {
    const a = typeof authority === 'function' ? authority(env) : authority;
    const head = [`CONNECT ${a} HTTP/1.1`, ...headers];
    return fromResponse(await sendRaw(env.ports.forwardProxy, head.join(CRLF) + CRLF + CRLF));
  };
}

function connectBytes(bytes: Buffer) {
  return async (env: Env): Promise<Outcome> => fromResponse(await sendRaw(env.ports.forwardProxy, bytes));
}

/** CONNECT to an allowed host, read the 200, hand the socket over. */
function openTunnel(port: number, authority: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () =>
      socket.write(`CONNECT ${authority} HTTP/1.1${CRLF}${CRLF}`),
    );
    let head = '';
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1');
      if (!head.includes(`${CRLF}${CRLF}`)) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 200')) resolve(socket);
      else reject(new Error(`tunnel refused: ${head}`));
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** The audit line of the latest CONNECT exchange (tunnel refusals happen after the 200). */
async function lastTunnelAudit(h: Harness): Promise<Outcome> {
  for (let i = 0; i < 50; i++) {
    const line = h
      .audits()
      .reverse()
      .find((l) => l.via === 'connect');
    if (line && line.result === 'deny') {
      return { status: 0, code: line.code, rule: line.rule, reason: line.reason, requestId: line.requestId };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no refused tunnel in the audit log');
}

/** CONNECT to the allowed mock, then a TLS handshake naming `servername` (undefined: no SNI). */
function tunnelWithSni(servername: string | undefined, authority?: (env: Env) => string) {
  return async (env: Env): Promise<Outcome> => {
    const socket = await openTunnel(
      env.ports.forwardProxy,
      authority ? authority(env) : `openai.mock.test:${env.p}`,
    );
    const pki = await mockPki();
    const failure = await new Promise<string>((resolve) => {
      const tls = tlsConnect({ socket, servername: servername ?? '', ca: pki.ca, rejectUnauthorized: false });
      tls.on('secureConnect', () => {
        tls.destroy();
        resolve('handshake completed');
      });
      tls.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
      tls.on('close', () => resolve('closed'));
    });
    expect(failure).not.toBe('handshake completed');
    return lastTunnelAudit(env.h);
  };
}

function tunnelWithPlaintext() {
  return async (env: Env): Promise<Outcome> => {
    const socket = await openTunnel(env.ports.forwardProxy, `openai.mock.test:${env.p}`);
    const text = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      socket.on('close', () => resolve(data));
      socket.write(`GET /v1/models HTTP/1.1${CRLF}Host: openai.mock.test${CRLF}${CRLF}`);
    });
    const body = JSON.parse(text.slice(text.indexOf(`${CRLF}${CRLF}`) + 4)) as Record<string, unknown>;
    return {
      status: Number(text.split(' ')[1]),
      code: body.code,
      rule: body.rule,
      reason: body.reason,
      requestId: body.requestId,
    };
  };
}

function redirect(status: number, location: string | ((env: Env) => string)) {
  return async (env: Env): Promise<Outcome> => {
    env.mock.next((_req, res: ServerResponse) => {
      res.writeHead(status, {
        location: typeof location === 'function' ? location(env) : location,
        'content-length': '0',
      });
      res.end();
    });
    return endpoint('/openai/v1/chat/completions', { body: chat('gpt-4o-mini') })(env);
  };
}

const homoglyph = (unicode: string): string => domainToASCII(unicode);

const D = 'EGRESS_DENIED';
const VECTORS: Vector[] = [
  // numeric IP encodings: every form of an address is an IP literal, and allowlists name hosts
  {
    family: 'numeric-ip',
    name: 'CONNECT dotted loopback',
    send: connect('127.0.0.1:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'numeric-ip',
    name: 'CONNECT decimal loopback',
    send: connect('2130706433:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /127\.0\.0\.1/,
  },
  {
    family: 'numeric-ip',
    name: 'CONNECT hex loopback',
    send: connect('0x7f000001:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /127\.0\.0\.1/,
  },
  {
    family: 'numeric-ip',
    name: 'CONNECT octal loopback',
    send: connect('0177.0.0.1:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /127\.0\.0\.1/,
  },
  {
    family: 'numeric-ip',
    name: 'CONNECT short-form loopback',
    send: connect('127.1:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /127\.0\.0\.1/,
  },
  {
    family: 'numeric-ip',
    name: 'metadata, dotted',
    send: forward('http://169.254.169.254/latest/meta-data/'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'numeric-ip',
    name: 'metadata, decimal',
    send: forward('http://2852039166/latest/meta-data/'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /169\.254\.169\.254/,
  },
  {
    family: 'numeric-ip',
    name: 'metadata, hex octets',
    send: forward('http://0xa9.0xfe.0xa9.0xfe/'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /169\.254\.169\.254/,
  },
  {
    family: 'numeric-ip',
    name: 'metadata, octal octets',
    send: forward('http://0251.0376.0251.0376/'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /169\.254\.169\.254/,
  },
  {
    family: 'numeric-ip',
    name: 'Alibaba metadata (CGNAT)',
    send: connect('100.100.100.200:80'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'numeric-ip',
    name: 'bare zero',
    send: connect('0:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
    reason: /0\.0\.0\.0/,
  },
  {
    family: 'numeric-ip',
    name: 'private network',
    send: connect('10.0.0.1:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },

  // IPv6 literals and names resolving to IPv6 forms, including the ones that embed IPv4
  {
    family: 'ipv6',
    name: 'CONNECT [::1]',
    send: connect('[::1]:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'ipv6',
    name: 'CONNECT IPv4-mapped loopback literal',
    send: connect('[::ffff:127.0.0.1]:443'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'ipv6',
    name: 'AWS IPv6 metadata literal',
    send: connect('[fd00:ec2::254]:80'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'ipv6',
    name: 'mapped metadata literal, absolute-form',
    send: forward('http://[::ffff:a9fe:a9fe]/'),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'ipv6',
    name: 'link-local with zone id',
    send: connect('[fe80::1%25eth0]:443'),
    status: 403,
    code: D,
    rule: 'egress:percent-encoded-host',
  },
  {
    family: 'ipv6',
    name: 'name → ::1',
    send: connect('v6loop.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /::1 is a loopback address/,
  },
  {
    family: 'ipv6',
    name: 'name → IPv4-mapped metadata',
    send: connect('v6mapped.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /IPv4-mapped for 169\.254\.169\.254/,
  },
  {
    family: 'ipv6',
    name: 'name → NAT64 metadata',
    send: connect('nat64.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /NAT64 for 169\.254\.169\.254/,
  },
  {
    family: 'ipv6',
    name: 'name → 6to4 loopback',
    send: connect('6to4.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /6to4 tunnel address \(carrying 127\.0\.0\.1\)/,
  },
  {
    family: 'ipv6',
    name: 'name → Teredo',
    send: connect('teredo.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /Teredo/,
  },
  {
    family: 'ipv6',
    name: 'name → AWS IPv6 metadata',
    send: connect('ula.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /fd00:ec2::254/,
  },
  {
    family: 'ipv6',
    name: 'name → link-local',
    send: connect('linklocal6.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /link-local/,
  },
  {
    family: 'ipv6',
    name: 'name → multicast',
    send: connect('multicast6.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /multicast/,
  },
  {
    family: 'ipv6',
    name: 'name → IPv4-compatible private',
    send: connect('compat.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /IPv4-compatible for 10\.0\.0\.1/,
  },
  {
    family: 'ipv6',
    name: 'name → unspecified',
    send: connect('unspecified6.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /unspecified/,
  },

  // wildcard DNS: an allowed *.suffix name that resolves somewhere private
  {
    family: 'wildcard-dns',
    name: 'wildcard → metadata',
    send: connect('metadata.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /169\.254\.169\.254 is a link-local \(cloud metadata\)/,
  },
  {
    family: 'wildcard-dns',
    name: 'wildcard → RFC 1918',
    send: connect('private.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /10\.0\.0\.5/,
  },
  {
    family: 'wildcard-dns',
    name: 'nip.io-style name → loopback',
    send: connect('127.0.0.1.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /loopback/,
  },
  {
    family: 'wildcard-dns',
    name: 'wildcard → CGNAT metadata',
    send: connect('cgnat.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /CGNAT/,
  },
  {
    family: 'wildcard-dns',
    name: 'wildcard → 0.0.0.0',
    send: connect('zero.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /unspecified/,
  },
  {
    family: 'wildcard-dns',
    name: 'absolute-form to wildcard → RFC 1918',
    send: forward('http://private.openai.azure.com/openai/deployments/d/chat/completions', [
      'Host: private.openai.azure.com',
    ]),
    status: 403,
    code: D,
    rule: 'egress:address',
  },
  {
    family: 'wildcard-dns',
    name: 'provider endpoint resolving private (base URL)',
    send: endpoint('/internal/v1/chat/completions', { body: chat('x') }),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /llm\.corp\.example resolved to 10\.1\.2\.3/,
  },

  // resolvers that change their answers: every answer is checked, and only checked ones dialled
  {
    family: 'rebinding',
    name: 'one private answer among public ones',
    send: connect('mixed.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /127\.0\.0\.1/,
  },
  {
    family: 'rebinding',
    name: 'metadata listed first',
    send: connect('metafirst.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /169\.254\.169\.254/,
  },
  {
    family: 'rebinding',
    name: 'answer flips to metadata on the next connection',
    send: async (env) => {
      const first = await openTunnel(env.ports.forwardProxy, `flip.mock.test:${env.p}`);
      first.destroy();
      return connect(`flip.mock.test:${env.p}`)(env);
    },
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /169\.254\.169\.254/,
  },
  {
    family: 'rebinding',
    name: 'answer flips to another loopback address outside allowedCIDRs',
    send: async (env) => {
      const first = await openTunnel(env.ports.forwardProxy, `fliplo.mock.test:${env.p}`);
      first.destroy();
      return connect(`fliplo.mock.test:${env.p}`)(env);
    },
    status: 403,
    code: D,
    rule: 'egress:address',
    reason: /127\.0\.0\.2 is a loopback address/,
  },

  // redirects are refused, never followed
  {
    family: 'redirect',
    name: '302 to cloud metadata',
    send: endpoint('/openai/v1/chat/completions', { body: chat('mock-redirect') }),
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reason: /169\.254\.169\.254/,
    reachesProvider: true,
  },
  {
    family: 'redirect',
    name: '307 to the admin port',
    send: redirect(307, ({ ports }) => `http://127.0.0.1:${ports.admin}/status`),
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reachesProvider: true,
  },
  {
    family: 'redirect',
    name: '301 to file://',
    send: redirect(301, 'file:///etc/passwd'),
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reachesProvider: true,
  },
  {
    family: 'redirect',
    name: '308 to IPv6 metadata',
    send: redirect(308, 'http://[fd00:ec2::254]/latest/'),
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reachesProvider: true,
  },
  {
    family: 'redirect',
    name: '303 to a look-alike host',
    send: redirect(303, 'https://openai.mock.test.evil.example/'),
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reachesProvider: true,
  },
  {
    family: 'redirect',
    name: 'redirect on the absolute-form path',
    send: async (env) => {
      env.mock.next((_req, res: ServerResponse) => {
        res.writeHead(302, { location: 'http://169.254.169.254/', 'content-length': '0' });
        res.end();
      });
      return forward(
        ({ p }) => `http://openai.mock.test:${p}/v1/models`,
        ({ p }) => [`Host: openai.mock.test:${p}`],
      )(env);
    },
    status: 502,
    code: 'UPSTREAM_ERROR',
    rule: 'egress:redirect',
    reachesProvider: true,
  },

  // userinfo confusion
  {
    family: 'userinfo',
    name: 'allowed host as userinfo',
    send: forward('http://openai.mock.test@evil.example.com/'),
    status: 403,
    code: D,
    rule: 'egress:userinfo',
  },
  {
    family: 'userinfo',
    name: 'evil host as userinfo of the allowed one',
    send: forward(({ p }) => `http://evil.example.com@openai.mock.test:${p}/v1/models`),
    status: 403,
    code: D,
    rule: 'egress:userinfo',
  },
  {
    family: 'userinfo',
    name: 'CONNECT with credentials',
    send: connect(({ p }) => `user:pass@openai.mock.test:${p}`),
    status: 403,
    code: D,
    rule: 'egress:userinfo',
  },
  {
    family: 'userinfo',
    name: 'port-looking userinfo',
    send: forward(({ p }) => `http://openai.mock.test:${p}@evil.example.com/`),
    status: 403,
    code: D,
    rule: 'egress:userinfo',
  },
  {
    family: 'userinfo',
    name: 'backslash before @',
    send: forward('http://evil.example.com\\@openai.mock.test/'),
    // llhttp itself refuses these target bytes; the refusal still comes back as JSON.
    status: 400,
    code: 'BAD_REQUEST',
    rule: 'http',
    reason: /HPE_INVALID_URL/,
  },
  {
    family: 'userinfo',
    name: 'fragment before @',
    send: forward('http://evil.example.com#@openai.mock.test/'),
    // llhttp itself refuses these target bytes; the refusal still comes back as JSON.
    status: 400,
    code: 'BAD_REQUEST',
    rule: 'http',
    reason: /HPE_INVALID_URL/,
  },
  {
    family: 'userinfo',
    name: 'percent-encoded @',
    send: forward('http://openai.mock.test%40evil.example.com/'),
    status: 403,
    code: D,
    rule: 'egress:percent-encoded-host',
  },
  {
    family: 'userinfo',
    name: 'userinfo in the provider segment (base URL)',
    send: endpoint('/openai@evil.example.com/v1/models', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'spec.providers',
  },

  // parser differentials: what another parser could read differently is refused
  {
    family: 'parser-differential',
    name: 'duplicate model keys',
    send: endpoint('/openai/v1/chat/completions', { body: '{"model":"gpt-4o-mini","model":"gpt-5"}' }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
    reason: /repeats the key "model"/,
  },
  {
    family: 'parser-differential',
    name: 'model keys differing in case (Go matches them)',
    send: endpoint('/openai/v1/chat/completions', { body: '{"model":"gpt-4o-mini","Model":"gpt-5"}' }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
    reason: /repeats the key "model"/,
  },
  {
    family: 'parser-differential',
    name: 'escaped duplicate key',
    send: endpoint('/openai/v1/chat/completions', { body: '{"model":"gpt-4o-mini","mod\\u0065l":"gpt-5"}' }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
  },
  {
    family: 'parser-differential',
    name: 'model as an array',
    send: endpoint('/openai/v1/chat/completions', { body: '{"model":["gpt-4o-mini","gpt-5"]}' }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
    reason: /not a string/,
  },
  {
    family: 'parser-differential',
    name: 'gzip body hiding the model',
    send: endpoint('/openai/v1/chat/completions', {
      headers: ['Content-Type: application/json', 'Content-Encoding: gzip'],
      body: 'xx',
    }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
    reason: /gzip-encoded/,
  },
  {
    family: 'parser-differential',
    name: 'form body naming a model',
    send: endpoint('/openai/v1/chat/completions', {
      headers: ['Content-Type: application/x-www-form-urlencoded'],
      body: 'model=gpt-5',
    }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedModels',
    reason: /not JSON/,
  },
  {
    family: 'parser-differential',
    name: 'Content-Length with Transfer-Encoding',
    send: connectBytes(
      Buffer.from(
        `POST /openai/v1/chat/completions HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 3${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}0${CRLF}${CRLF}`,
      ),
    ),
    status: 400,
    code: 'BAD_REQUEST',
    rule: 'http',
    reason: /HPE_/,
  },
  {
    family: 'parser-differential',
    name: 'two Content-Length headers',
    send: connectBytes(
      Buffer.from(
        `POST /x HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 3${CRLF}Content-Length: 4${CRLF}${CRLF}abcd`,
      ),
    ),
    status: 400,
    code: 'BAD_REQUEST',
    rule: 'http',
  },
  {
    family: 'parser-differential',
    name: 'two Host headers',
    send: forward(
      ({ p }) => `http://openai.mock.test:${p}/v1/models`,
      ({ p }) => [`Host: openai.mock.test:${p}`, 'Host: evil.example.com'],
    ),
    status: 403,
    code: D,
    rule: 'egress:host-mismatch',
    reason: /2 Host headers/,
  },
  {
    family: 'parser-differential',
    name: 'Host header naming another host',
    send: forward(({ p }) => `http://openai.mock.test:${p}/v1/models`, ['Host: evil.example.com']),
    status: 403,
    code: D,
    rule: 'egress:host-mismatch',
  },
  {
    family: 'parser-differential',
    name: 'origin-form on the forward proxy',
    send: forward('/v1/models', ['Host: openai.mock.test']),
    status: 403,
    code: D,
    rule: 'egress:malformed-target',
  },
  {
    family: 'parser-differential',
    name: 'absolute-form on the provider endpoints',
    send: async ({ ports }) =>
      fromResponse(
        await sendRaw(
          ports.providers,
          `GET http://evil.example.com/ HTTP/1.1${CRLF}Host: evil.example.com${CRLF}Connection: close${CRLF}${CRLF}`,
        ),
      ),
    status: 403,
    code: D,
    rule: 'egress:malformed-target',
  },
  {
    family: 'parser-differential',
    name: 'CONNECT to the provider endpoints',
    send: async ({ ports }) =>
      fromResponse(await sendRaw(ports.providers, `CONNECT evil.example.com:443 HTTP/1.1${CRLF}${CRLF}`)),
    status: 403,
    code: D,
    rule: 'egress:malformed-target',
  },

  // trailing dots and empty labels
  {
    family: 'trailing-dot',
    name: 'wildcard apex with a trailing dot',
    send: connect('openai.azure.com.:443'),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'trailing-dot',
    name: 'two trailing dots',
    send: connect(({ p }) => `openai.mock.test..:${p}`),
    status: 403,
    code: D,
    rule: 'egress:malformed-host',
  },
  {
    family: 'trailing-dot',
    name: 'allowed name as a prefix, trailing dot',
    send: forward('http://openai.mock.test.evil.example./'),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'trailing-dot',
    name: 'leading dot',
    send: connect('.openai.azure.com:443'),
    status: 403,
    code: D,
    rule: 'egress:malformed-host',
  },
  {
    family: 'trailing-dot',
    name: 'wildcard name as a prefix, trailing dot',
    send: connect('x.openai.azure.com.evil.example.:443'),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },

  // homoglyphs and look-alikes
  {
    family: 'homoglyph',
    name: 'Cyrillic о (punycode)',
    send: connect(({ p }) => `${homoglyph('\u043epenai.mock.test')}:${p}`),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'homoglyph',
    name: 'Cyrillic е in the TLD (punycode)',
    send: connect(({ p }) => `${homoglyph('openai.mock.t\u0435st')}:${p}`),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'homoglyph',
    name: 'digit 1 for i',
    send: connect(({ p }) => `opena1.mock.test:${p}`),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'homoglyph',
    name: 'hyphen for dot',
    send: connect(({ p }) => `openai-mock.test:${p}`),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'homoglyph',
    name: 'raw UTF-8 in CONNECT',
    send: connectBytes(Buffer.from(`CONNECT \u043epenai.mock.test:443 HTTP/1.1${CRLF}${CRLF}`, 'utf8')),
    status: 400,
    code: 'BAD_REQUEST',
    rule: 'http',
  },
  {
    family: 'homoglyph',
    name: 'raw UTF-8 in the Host header',
    send: async (env) =>
      fromResponse(
        await sendRaw(
          env.ports.forwardProxy,
          Buffer.from(
            `GET http://openai.mock.test:${env.p}/v1/models HTTP/1.1${CRLF}Host: \u043epenai.mock.test:${env.p}${CRLF}Connection: close${CRLF}${CRLF}`,
            'utf8',
          ),
        ),
      ),
    status: 403,
    code: D,
    rule: 'egress:host-mismatch',
  },

  // encoded paths (base-URL mode)
  {
    family: 'encoded-path',
    name: 'encoded slash',
    send: endpoint('/openai/v1/chat%2Fcompletions', { body: chat('gpt-4o-mini') }),
    status: 403,
    code: D,
    rule: 'egress:encoded-slash',
  },
  {
    family: 'encoded-path',
    name: 'encoded dot segments',
    send: endpoint('/openai/v1/%2e%2e/admin', { body: chat('gpt-4o-mini') }),
    status: 403,
    code: D,
    rule: 'egress:encoded-dot-segment',
  },
  {
    family: 'encoded-path',
    name: 'encoded slash inside a traversal',
    send: endpoint('/openai/v1/chat/completions/..%2f..%2fadmin', { body: chat('gpt-4o-mini') }),
    status: 403,
    code: D,
    rule: 'egress:encoded-slash',
  },
  {
    family: 'encoded-path',
    name: 'double encoding',
    send: endpoint('/openai/v1/%252e%252e/admin', { body: chat('gpt-4o-mini') }),
    status: 403,
    code: D,
    rule: 'egress:double-encoding',
  },
  {
    family: 'encoded-path',
    name: 'encoded NUL',
    send: endpoint('/openai/v1/models%00.json', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:encoded-control',
  },
  {
    family: 'encoded-path',
    name: 'encoded CRLF (header injection)',
    send: endpoint('/openai/v1/models%0d%0aX-Evil:%201', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:encoded-control',
  },
  {
    family: 'encoded-path',
    name: 'Tomcat ..; segment',
    send: endpoint('/openai/v1/..;/admin', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:path-traversal',
  },
  {
    family: 'encoded-path',
    name: 'climbing above the provider',
    send: endpoint('/openai/../admin', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:path-traversal',
  },
  {
    family: 'encoded-path',
    name: 'backslash separators',
    send: endpoint('/openai/v1\\models', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:backslash',
  },
  {
    family: 'encoded-path',
    name: 'empty segment',
    send: endpoint('/openai//v1/models', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:malformed-path',
  },
  {
    family: 'encoded-path',
    name: 'overlong UTF-8 dots',
    send: endpoint('/openai/v1/%c0%ae%c0%ae/admin', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:malformed-path',
  },
  {
    family: 'encoded-path',
    name: 'dot segments resolving to a path not allowed',
    send: endpoint('/openai/v1/models/../files', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedPaths',
    reason: /path \/v1\/files is not allowed/,
  },
  {
    family: 'encoded-path',
    name: 'path differing in case',
    send: endpoint('/openai/V1/chat/completions', { body: chat('gpt-4o-mini') }),
    status: 403,
    code: D,
    rule: 'spec.providers[0].allowedPaths',
  },

  // non-HTTP schemes
  {
    family: 'scheme',
    name: 'ftp',
    send: forward('ftp://openai.mock.test/'),
    status: 403,
    code: D,
    rule: 'egress:scheme',
  },
  {
    family: 'scheme',
    name: 'file',
    send: forward('file:///etc/passwd'),
    status: 403,
    code: D,
    rule: 'egress:scheme',
  },
  {
    family: 'scheme',
    name: 'gopher',
    send: forward('gopher://openai.mock.test:70/_GET'),
    status: 403,
    code: D,
    rule: 'egress:scheme',
  },
  {
    family: 'scheme',
    name: 'ws',
    send: forward('ws://openai.mock.test/'),
    status: 403,
    code: D,
    rule: 'egress:scheme',
  },
  {
    family: 'scheme',
    name: 'dict',
    send: forward('dict://127.0.0.1:11211/stats'),
    status: 403,
    code: D,
    rule: 'egress:scheme',
  },

  // port tricks
  {
    family: 'port',
    name: 'another port of an allowed host',
    send: connect('openai.mock.test:22'),
    status: 403,
    code: D,
    rule: 'spec.providers[0].endpoint',
    reason: /port 22/,
  },
  {
    family: 'port',
    name: 'leading zero',
    send: connect(({ p }) => `openai.mock.test:0${p}`),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'out of range',
    send: connect('openai.mock.test:65536'),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'signed',
    send: connect(({ p }) => `openai.mock.test:+${p}`),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'missing',
    send: connect('openai.mock.test'),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'two ports',
    send: connect(({ p }) => `openai.mock.test:${p}:443`),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'hex',
    send: connect('openai.mock.test:0x1bb'),
    status: 403,
    code: D,
    rule: 'egress:malformed-port',
  },
  {
    family: 'port',
    name: 'SMTP on an absolute-form URL',
    send: forward('http://openai.mock.test:25/', ['Host: openai.mock.test:25']),
    status: 403,
    code: D,
    rule: 'spec.providers[0].endpoint',
  },
  {
    family: 'port',
    name: 'wildcard host on port 80',
    send: connect('metadata.openai.azure.com:80'),
    status: 403,
    code: D,
    rule: 'spec.providers[1].endpoint',
  },

  // the sidecar itself
  {
    family: 'self-connection',
    name: 'CONNECT to the proxy port',
    send: connect(({ ports }) => `127.0.0.1:${ports.forwardProxy}`),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'self-connection',
    name: 'CONNECT localhost to the endpoints port',
    send: connect(({ ports }) => `localhost:${ports.providers}`),
    status: 403,
    code: D,
    rule: 'spec.providers[].allowedHosts',
  },
  {
    family: 'self-connection',
    name: 'absolute-form to the admin port',
    send: forward(({ ports }) => `http://127.0.0.1:${ports.admin}/status`),
    status: 403,
    code: D,
    rule: 'egress:ip-literal',
  },
  {
    family: 'self-connection',
    name: 'allowed name resolving to the sidecar (CONNECT)',
    send: connect(({ ports }) => `self.mock.test:${ports.forwardProxy}`),
    status: 403,
    code: D,
    rule: 'egress:self-connection',
  },
  {
    family: 'self-connection',
    name: 'provider endpoint pointing at the sidecar (base URL)',
    send: endpoint('/loop/v1/models', { method: 'GET', headers: [] }),
    status: 403,
    code: D,
    rule: 'egress:self-connection',
  },

  // Host vs SNI vs CONNECT
  {
    family: 'host-sni-mismatch',
    name: 'SNI of another host',
    send: tunnelWithSni('evil.example.com'),
    status: 0,
    code: D,
    rule: 'egress:sni',
    reason: /"evil\.example\.com" does not match the CONNECT host openai\.mock\.test/,
  },
  {
    family: 'host-sni-mismatch',
    name: 'SNI extending the allowed name',
    send: tunnelWithSni('openai.mock.test.evil.example'),
    status: 0,
    code: D,
    rule: 'egress:sni',
  },
  {
    family: 'host-sni-mismatch',
    name: 'no SNI',
    send: tunnelWithSni(undefined),
    status: 0,
    code: D,
    rule: 'egress:sni',
    reason: /names no server/,
  },
  {
    family: 'host-sni-mismatch',
    name: 'SNI of another allowed provider',
    send: tunnelWithSni('flip.mock.test'),
    status: 0,
    code: D,
    rule: 'egress:sni',
  },
  {
    family: 'host-sni-mismatch',
    name: 'plaintext HTTP inside the tunnel',
    send: tunnelWithPlaintext(),
    status: 403,
    code: D,
    rule: 'egress:sni',
    reason: /does not carry TLS/,
  },
  {
    family: 'host-sni-mismatch',
    name: 'CONNECT Host header of another host',
    send: connect(({ p }) => `openai.mock.test:${p}`, ['Host: evil.example.com:443']),
    status: 403,
    code: D,
    rule: 'egress:host-mismatch',
  },
];

describe('the egress bypass corpus', () => {
  let env: Env;
  let mock: MockProvider;

  beforeAll(async () => {
    const pki = await mockPki();
    mock = await startOpenAiMock({ acceptKeys: ['sk-corpus-key'] });
    const h = await startHarness({
      resolver: {
        'openai.mock.test': ['127.0.0.1'],
        'flip.mock.test': (n) => (n === 0 ? ['127.0.0.1'] : ['169.254.169.254']),
        'fliplo.mock.test': (n) => (n === 0 ? ['127.0.0.1'] : ['127.0.0.2']),
        'self.mock.test': ['127.0.0.1'],
        'llm.corp.example': ['10.1.2.3'],
        'metadata.openai.azure.com': ['169.254.169.254'],
        'private.openai.azure.com': ['10.0.0.5'],
        '127.0.0.1.openai.azure.com': ['127.0.0.1'],
        'cgnat.openai.azure.com': ['100.100.100.200'],
        'zero.openai.azure.com': ['0.0.0.0'],
        'v6loop.openai.azure.com': ['::1'],
        'v6mapped.openai.azure.com': ['::ffff:169.254.169.254'],
        'nat64.openai.azure.com': ['64:ff9b::a9fe:a9fe'],
        '6to4.openai.azure.com': ['2002:7f00:1::1'],
        'teredo.openai.azure.com': ['2001:0:4136:e378:8000:63bf:3fff:fdd2'],
        'ula.openai.azure.com': ['fd00:ec2::254'],
        'linklocal6.openai.azure.com': ['fe80::1'],
        'multicast6.openai.azure.com': ['ff02::1'],
        'compat.openai.azure.com': ['::10.0.0.1'],
        'unspecified6.openai.azure.com': ['::'],
        'mixed.openai.azure.com': ['20.1.2.3', '127.0.0.1'],
        'metafirst.openai.azure.com': ['169.254.169.254', '20.1.2.3'],
      },
    });
    const local = { allowedCIDRs: ['127.0.0.1/32'], caBundle: pki.ca };
    h.setPolicy(
      {
        providers: [
          provider({
            endpoint: `https://openai.mock.test:${mock.port}`,
            allowedModels: ['gpt-4o-mini', 'mock-*'],
            ...local,
          }),
          provider({
            name: 'azure',
            type: 'azure-openai',
            endpoint: 'https://contoso.openai.azure.com',
            allowedHosts: ['*.openai.azure.com'],
          }),
          provider({ name: 'internal', type: 'generic', endpoint: 'https://llm.corp.example' }),
          provider({ name: 'flip', endpoint: `https://flip.mock.test:${mock.port}`, ...local }),
          provider({ name: 'fliplo', endpoint: `https://fliplo.mock.test:${mock.port}`, ...local }),
          provider({
            name: 'loop',
            endpoint: `https://self.mock.test:${h.sidecar.ports.forwardProxy}`,
            allowedCIDRs: ['127.0.0.0/8'],
          }),
        ],
      },
      { openai: 'sk-corpus-key', azure: 'k', internal: 'k', flip: 'k', fliplo: 'k', loop: 'k' },
    );
    env = { h, mock, p: mock.port, ports: h.sidecar.ports };
  });

  afterAll(async () => {
    await env.h.close();
    await mock.close();
  });

  it('holds at least 60 vectors, covering every family', () => {
    expect(VECTORS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(VECTORS.map((v) => v.family))).toEqual(new Set(FAMILIES));
    expect(new Set(VECTORS.map((v) => `${v.family}/${v.name}`)).size).toBe(VECTORS.length);
  });

  it('lets the legitimate request through (the setup refuses nothing by itself)', async () => {
    const r = await endpoint('/openai/v1/chat/completions', { body: chat('gpt-4o-mini') })(env);
    expect({ status: r.status, code: r.code }).toEqual({ status: 200, code: undefined });
  });

  it.each(VECTORS.map((v) => [`${v.family}: ${v.name}`, v] as const))(
    'refuses %s',
    async (_title, vector) => {
      const before = mock.requests.length;
      const dialsBefore = env.h.dials.length;
      const outcome = await vector.send(env);
      expect({ status: outcome.status, code: outcome.code, rule: outcome.rule }).toEqual({
        status: vector.status,
        code: vector.code,
        rule: vector.rule,
      });
      expect(typeof outcome.reason).toBe('string');
      if (vector.reason) expect(outcome.reason).toMatch(vector.reason);
      // Nothing refused reached the provider; only checked addresses were ever dialled.
      expect(mock.requests.length - before).toBe(vector.reachesProvider ? 1 : 0);
      for (const dial of env.h.dials.slice(dialsBefore)) expect(dial.address).toBe('127.0.0.1');
      // One audit record says the same.
      if (typeof outcome.requestId === 'string') {
        const audit = env.h.audits().find((l) => l.requestId === outcome.requestId);
        expect(audit).toMatchObject({ result: 'deny', code: vector.code, rule: vector.rule });
      }
    },
  );
});
