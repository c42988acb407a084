// The proxies `make bench` puts side by side, each started as its own process (pinned to one core
// when the machine has two) in front of the same mock provider, with the configuration the README
// states. Peers come from .cache/bench-peers/ (hack/bench-peers.sh); nothing here installs anything.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, target, type Target } from './load.ts';
import { SIDECAR_NODE_FLAGS } from '../../sidecar/src/runtime/node-flags.ts';

export interface PeerContext {
  /** Scratch folder for configurations and logs. */
  dir: string;
  /** Where hack/bench-peers.sh installed the peers. */
  peersDir: string;
  upstreamPort: number;
  ca: string;
  caFile: string;
  /** Command prefix that pins a proxy to its core (`taskset -c 1`), or nothing. */
  pin: string[];
  /** chaperone-proxy's entry point (dist/ when built). */
  sidecarMain: string;
  /** The chat request every target sends, and its streaming twin. */
  body: string;
  streamBody: string;
  /** Connections per client pool for the non-streaming phases. */
  connections: number;
}

export interface Peer {
  name: string;
  /** The process whose CPU and memory are the proxy's (undefined: no proxy, the direct call). */
  pid: number | undefined;
  /** For requests and for streams (a pool wide enough for overlapping streams). */
  target: Target;
  streamTarget: Target;
}

export const STREAM_CONNECTIONS = 64;
const READY_TIMEOUT_MS = 90_000;
const processes: ChildProcess[] = [];

/** Stops every process started here. */
export function stopAll(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of processes) if (child.exitCode === null) child.kill(signal);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function targets(
  ctx: PeerContext,
  name: string,
  origin: string,
  path: string,
  extra: { proxy?: string; headers?: Record<string, string>; ca?: string } = {},
): { target: Target; streamTarget: Target } {
  const options = { ...extra, body: ctx.body, streamBody: ctx.streamBody };
  return {
    target: target(name, origin, path, { ...options, connections: ctx.connections }),
    streamTarget: target(name, origin, path, { ...options, connections: STREAM_CONNECTIONS }),
  };
}

/**
 * Starts `command` pinned, its output in `<dir>/<name>.log`, and waits until one chat completion
 * goes through it: every peer is ready by the same test, whatever it prints.
 */
async function launch(
  ctx: PeerContext,
  name: string,
  command: string,
  args: string[],
  probe: Target,
  env: Record<string, string> = {},
): Promise<number> {
  const logFile = join(ctx.dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.log`);
  const log = openSync(logFile, 'a');
  const [file, ...rest] = [...ctx.pin, command, ...args];
  const child = spawn(file!, rest, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
  closeSync(log);
  processes.push(child);
  const tail = (): string => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${tail()}`);
    try {
      await call(probe, probe.body);
      return child.pid!;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS / 1000} s:\n${tail()}`);
}

const upstreamOrigin = (ctx: PeerContext): string => `https://localhost:${ctx.upstreamPort}`;

export function direct(ctx: PeerContext): Peer {
  return {
    name: 'direct',
    pid: undefined,
    ...targets(ctx, 'direct', upstreamOrigin(ctx), '/v1/chat/completions', { ca: ctx.ca }),
  };
}

/**
 * The direct call again, with its own connections, reported as if it were a proxy (an A/A test):
 * whatever it "adds" is the harness's noise, the resolution of every other row's added figures.
 */
export function directControl(ctx: PeerContext): Peer {
  const name = 'direct again (A/A control)';
  return {
    name,
    pid: undefined,
    ...targets(ctx, name, upstreamOrigin(ctx), '/v1/chat/completions', { ca: ctx.ca }),
  };
}

/** DESIGN.md's ~20-line node:http + undici Pool pass-through: the floor for a Node proxy. */
export async function undiciFloor(ctx: PeerContext): Promise<Peer> {
  const port = await freePort();
  const t = targets(ctx, 'undici pass-through', `http://127.0.0.1:${port}`, '/v1/chat/completions');
  const script = new URL('./passthrough.js', import.meta.url).pathname;
  const pid = await launch(
    ctx,
    'undici',
    process.execPath,
    [script, upstreamOrigin(ctx), ctx.caFile, String(port)],
    t.target,
  );
  return { name: 'undici pass-through', pid, ...t };
}

/** nginx: one worker, upstream keep-alive, TLS to the provider verified, no buffering either way. */
export async function nginx(ctx: PeerContext): Promise<Peer> {
  const port = await freePort();
  const prefix = join(ctx.dir, 'nginx');
  const conf = join(ctx.dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${prefix}.pid;
error_log ${prefix}-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}-body;
  proxy_temp_path ${prefix}-proxy;
  fastcgi_temp_path ${prefix}-fastcgi;
  uwsgi_temp_path ${prefix}-uwsgi;
  scgi_temp_path ${prefix}-scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream provider {
    server 127.0.0.1:${ctx.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass https://provider;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host localhost:${ctx.upstreamPort};
      proxy_ssl_server_name on;
      proxy_ssl_name localhost;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate ${ctx.caFile};
      proxy_ssl_session_reuse on;
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`,
  );
  const t = targets(ctx, 'nginx', `http://127.0.0.1:${port}`, '/v1/chat/completions');
  const bin = join(ctx.peersDir, 'nginx/usr/sbin/nginx');
  const pid = await launch(
    ctx,
    'nginx',
    bin,
    ['-p', ctx.dir, '-e', `${prefix}-error.log`, '-c', conf],
    t.target,
  );
  return { name: 'nginx', pid, ...t };
}

/** LiteLLM proxy: one openai/ model on the mock's api_base; no database, no callbacks, one worker. */
export async function litellm(ctx: PeerContext): Promise<Peer> {
  const port = await freePort();
  const config = join(ctx.dir, 'litellm.yaml');
  writeFileSync(
    config,
    `model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstreamOrigin(ctx)}/v1
      api_key: sk-bench-not-a-real-key
litellm_settings:
  callbacks: []
  success_callback: []
  failure_callback: []
  telemetry: false
`,
  );
  const t = targets(ctx, 'LiteLLM', `http://127.0.0.1:${port}`, '/v1/chat/completions');
  const pid = await launch(
    ctx,
    'litellm',
    join(ctx.peersDir, 'venv/bin/litellm'),
    ['--config', config, '--host', '127.0.0.1', '--port', String(port), '--telemetry', 'False'],
    t.target,
    // The mock's CA for httpx/aiohttp. No DATABASE_URL, so no database.
    { SSL_CERT_FILE: ctx.caFile, LITELLM_LOG: 'ERROR' },
  );
  return { name: 'LiteLLM', pid, ...t };
}

/** Portkey's open-source gateway: provider openai, the mock as its custom host. */
export async function portkey(ctx: PeerContext): Promise<Peer> {
  const port = await freePort();
  const t = targets(ctx, 'Portkey', `http://127.0.0.1:${port}`, '/v1/chat/completions', {
    headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamOrigin(ctx)}/v1` },
  });
  const main = join(ctx.peersDir, 'portkey/node_modules/@portkey-ai/gateway/build/start-server.js');
  const pid = await launch(
    ctx,
    'portkey',
    process.execPath,
    [main, `--port=${port}`, '--headless'],
    t.target,
    { NODE_EXTRA_CA_CERTS: ctx.caFile },
  );
  return { name: 'Portkey', pid, ...t };
}

/** smokescreen: CONNECT only, loopback allowed; the client speaks TLS to the mock through the tunnel. */
export async function smokescreen(ctx: PeerContext): Promise<Peer> {
  const port = await freePort();
  const t = targets(ctx, 'smokescreen (CONNECT)', upstreamOrigin(ctx), '/v1/chat/completions', {
    ca: ctx.ca,
    proxy: `http://127.0.0.1:${port}`,
  });
  const pid = await launch(
    ctx,
    'smokescreen',
    join(ctx.peersDir, 'bin/smokescreen'),
    [
      '--listen-ip',
      '127.0.0.1',
      '--listen-port',
      String(port),
      '--allow-range',
      '127.0.0.0/8',
      '--allow-range',
      '::1/128',
    ],
    t.target,
  );
  return { name: 'smokescreen (CONNECT)', pid, ...t };
}

export type ChaperoneVariant = 'allowlist' | 'redaction' | 'guards';

const VARIANT_SPEC: Record<ChaperoneVariant, string> = {
  allowlist: `  dataBoundary: {detectors: []}
  guards:
    promptInjection: {action: 'Off'}
    tools: {action: 'Off'}
    costBurst: {action: 'Off'}`,
  redaction: `  dataBoundary: {action: Redact}
  guards:
    promptInjection: {action: 'Off'}
    tools: {action: 'Off'}
    costBurst: {action: 'Off'}`,
  guards: `  dataBoundary:
    detectors: [email, phone, credit-card, us-ssn, iban, secret, jwt, ip-address]
    action: Redact
    restoreInResponse: true
  guards:
    promptInjection: {action: Report}
    tools: {allowed: [lookup_order], action: Block}
    costBurst: {tokensPerMinute: 1000000000, action: Report}`,
};

export function chaperonePolicy(variant: ChaperoneVariant, upstreamPort: number, ca: string): string {
  const caIndented = ca
    .trim()
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
  const limits =
    variant === 'guards' ? '\n      limits: {requestsPerMinute: 1000000, tokensPerMinute: 1000000000}' : '';
  return `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: bench-${variant}}
spec:
  providers:
    - name: openai
      type: openai
      endpoint: https://localhost:${upstreamPort}
      allowedCIDRs: ['127.0.0.0/8', '::1/128']
      allowedModels: ['gpt-4o-mini']
      credentials:
        secretRef: {name: openai-key, key: apiKey}
      circuitBreaker: {volumeThreshold: 1000}${limits}
      caBundle: |
${caIndented}
${VARIANT_SPEC[variant]}
`;
}

export const CHAPERONE_NAMES: Record<ChaperoneVariant, string> = {
  allowlist: 'Chaperone, allowlist only',
  redaction: 'Chaperone, redaction',
  guards: 'Chaperone, all guards',
};

/**
 * chaperone-proxy with one of the three policies. The allowlist process also serves the forward
 * proxy (:15001 CONNECT), measured as its own row against smokescreen.
 */
export async function chaperone(ctx: PeerContext, variant: ChaperoneVariant): Promise<Peer[]> {
  const [providers, proxy, admin] = [await freePort(), await freePort(), await freePort()];
  // A folder of its own: the sidecar watches the policy's directory, and the logs are written to ctx.dir.
  const policyDir = join(ctx.dir, `policy-${variant}`);
  mkdirSync(policyDir);
  const policy = join(policyDir, 'policy.yaml');
  writeFileSync(policy, chaperonePolicy(variant, ctx.upstreamPort, ctx.ca));
  const name = CHAPERONE_NAMES[variant];
  const t = targets(ctx, name, `http://127.0.0.1:${providers}`, '/openai/v1/chat/completions');
  const pid = await launch(
    ctx,
    `chaperone-${variant}`,
    process.execPath,
    [
      ...SIDECAR_NODE_FLAGS, // as the image and the #! line start it
      ctx.sidecarMain,
      '--policy',
      policy,
      '--secrets-dir',
      join(ctx.dir, 'secrets'),
      '--providers-address',
      `127.0.0.1:${providers}`,
      '--proxy-address',
      `127.0.0.1:${proxy}`,
      '--admin-address',
      `127.0.0.1:${admin}`,
    ],
    t.target,
  );
  const peers: Peer[] = [{ name, pid, ...t }];
  if (variant === 'allowlist') {
    peers.push({
      name: 'Chaperone, CONNECT (:15001)',
      pid,
      ...targets(ctx, 'Chaperone, CONNECT (:15001)', upstreamOrigin(ctx), '/v1/chat/completions', {
        ca: ctx.ca,
        proxy: `http://127.0.0.1:${proxy}`,
      }),
    });
  }
  return peers;
}
