// An in-process sidecar for real-server tests: loopback listeners on free ports, a scripted
// resolver (names → addresses, wildcards, answers that change), captured audit lines, and the
// policy swapped at will, as the standalone file watcher or the controller would.
import { Writable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import { connect as netConnect } from 'node:net';
import { createLogger } from '../src/audit/log.ts';
import { PolicyStore } from '../src/config/store.ts';
import { StaticCredentials } from '../src/credentials/source.ts';
import type { ResolvedAddress, Resolver } from '../src/egress/resolver.ts';
import type { Timeouts } from '../src/proxy/timeouts.ts';
import { startSidecar, type RunningSidecar } from '../src/sidecar.ts';
import { compileGuards } from '../src/guards/policy.ts';
import { compile, validated } from './policies.ts';

export type AuditLine = Record<string, unknown> & { msg: string; level: number };

/** Answers per host: a list, or a function of how many times the host was asked before. */
export type ResolverScript = Record<string, string[] | ((calls: number) => string[])>;

export function scriptedResolver(script: ResolverScript): Resolver & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const resolver = (host: string): Promise<ResolvedAddress[]> => {
    const n = calls.get(host) ?? 0;
    calls.set(host, n + 1);
    const entry =
      script[host] ??
      Object.entries(script).find(
        ([pattern]) => pattern.startsWith('*.') && host.endsWith(pattern.slice(1)),
      )?.[1];
    if (entry === undefined) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return Promise.reject(err);
    }
    const answers = typeof entry === 'function' ? entry(n) : entry;
    return Promise.resolve(
      answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    );
  };
  return Object.assign(resolver, { calls });
}

export interface Harness {
  sidecar: RunningSidecar;
  store: PolicyStore;
  resolver: ReturnType<typeof scriptedResolver>;
  /** Every log line so far, parsed. */
  lines(): AuditLine[];
  /** Audit lines only. */
  audits(): AuditLine[];
  /** The raw log text (for secret greps). */
  logText(): string;
  dials: { host: string; address: string }[];
  /** Applies a new policy spec (and its keys), as a reload would. */
  setPolicy(spec: Record<string, unknown>, keys?: Record<string, string>, name?: string): void;
  endpoint(path: string): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  spec?: Record<string, unknown>;
  keys?: Record<string, string>;
  resolver?: ResolverScript;
  timeouts?: Partial<Timeouts>;
  connectionsPerOrigin?: number;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      text += chunk.toString('utf8');
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const store = new PolicyStore();
  const setPolicy = (
    spec: Record<string, unknown>,
    keys: Record<string, string> = {},
    name?: string,
  ): void => {
    const policy = compile(spec, name);
    store.apply(
      {
        policy,
        credentials: new StaticCredentials(policy, new Map(Object.entries(keys))),
        guards: compileGuards(validated(spec, name).spec),
      },
      'test',
    );
  };
  if (options.spec) setPolicy(options.spec, options.keys);
  const resolver = scriptedResolver(options.resolver ?? {});
  const dials: { host: string; address: string }[] = [];
  const any = { host: '127.0.0.1', port: 0 };
  const sidecar = await startSidecar({
    store,
    logger,
    resolver,
    listen: { providers: any, forwardProxy: any, admin: any },
    processMetrics: false,
    timeouts: { connectMs: 2000, ...options.timeouts },
    connectionsPerOrigin: options.connectionsPerOrigin ?? 8,
    onDial: (host, address) => dials.push({ host, address: address.address }),
  });
  const lines = (): AuditLine[] =>
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditLine);
  return {
    sidecar,
    store,
    resolver,
    dials,
    lines,
    audits: () => lines().filter((l) => l.audit === true),
    logText: () => text,
    setPolicy,
    endpoint: (path) => `http://127.0.0.1:${sidecar.ports.providers}${path}`,
    close: () => sidecar.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Parsed JSON body, when it is JSON. */
  json: Record<string, unknown> | undefined;
  /** Everything received, verbatim. */
  raw: string;
}

/** Sends bytes exactly as given (no client-side normalisation) and reads until the server closes. */
export function sendRaw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () => socket.destroy(new Error(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const so_far = parseResponse(Buffer.concat(chunks).toString('latin1'));
      if (so_far) {
        clearTimeout(timer);
        socket.destroy();
        resolve(so_far);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString('latin1');
      resolve(parseResponse(all) ?? { status: 0, headers: {}, body: all, json: undefined, raw: all });
    });
  });
}

/** A complete HTTP/1.1 response with content-length, or undefined while incomplete. */
function parseResponse(raw: string): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const body = raw.slice(end + 4);
  if (Number.isNaN(length) || Buffer.byteLength(body, 'latin1') < length) return undefined;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body, json, raw };
}

/** A plain HTTP request through node:http (to the sidecar's loopback listeners). */
export function httpCall(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}
