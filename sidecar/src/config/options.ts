// The sidecar's command line and environment, parsed and checked before anything starts.
import { parseArgs } from 'node:util';
import { CHAPERONE_VERSION, SIDECAR_ENV } from '../../../api/src/injection.ts';
import { CONTROLLER_TOKEN_AUDIENCE, SIDECAR_PORTS } from '../../../api/src/names.ts';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ListenAddress } from '../sidecar.ts';

export const USAGE = `chaperone-proxy ${CHAPERONE_VERSION} — the Chaperone egress sidecar

Usage: chaperone-proxy --policy FILE [--secrets-dir DIR] [options]      (standalone)
       chaperone-proxy --controller-url URL [options]                  (in a pod; the webhook sets the env)

  --policy FILE            AIProviderPolicy manifest (YAML/JSON); reloaded when it changes   [CHAPERONE_POLICY_FILE]
  --secrets-dir DIR        secretRef {name, key} is read from DIR/<name>/<key>                [CHAPERONE_SECRETS_DIR]
  --providers-address A    provider endpoints, base-URL mode (default 127.0.0.1:${SIDECAR_PORTS.providers})      [CHAPERONE_PROVIDERS_ADDRESS]
  --proxy-address A        forward proxy, HTTP_PROXY/HTTPS_PROXY (default 127.0.0.1:${SIDECAR_PORTS.forwardProxy})  [CHAPERONE_PROXY_ADDRESS]
  --admin-address A        /healthz /readyz /metrics /status (default 127.0.0.1:${SIDECAR_PORTS.admin})       [${SIDECAR_ENV.adminAddress}]
  --controller-url URL     chaperone-controller's policy stream                                [${SIDECAR_ENV.controllerUrl}]
  --controller-ca FILE     CA for --controller-url (PEM; or the PEM itself in ${SIDECAR_ENV.controllerCa})   [CHAPERONE_CONTROLLER_CA_FILE]
  --token-file FILE        projected token for the controller (default from ${SIDECAR_ENV.tokenFiles})  [CHAPERONE_TOKEN_FILE]
  --pod NAMESPACE/NAME     this pod (default from ${SIDECAR_ENV.podNamespace} and ${SIDECAR_ENV.podName})
  --identity-token AUD=FILE  projected token for audience AUD (workload identity), repeatable  [${SIDECAR_ENV.tokenFiles}: JSON audience → file]
  --resolve HOST=IP        pin a host name to an address, repeatable (local use; the address is still checked)  [CHAPERONE_RESOLVE, comma-separated]
  --log-level LEVEL        pino level (default info)                                            [CHAPERONE_LOG_LEVEL]
  --background-nice N      nice value for V8's GC and compiler threads, 0-19 (default 19; 0 leaves them)  [CHAPERONE_BACKGROUND_NICE]
  --trim-startup-pages on|off  once listening, drop the binary's pages only start-up used (default on)  [CHAPERONE_TRIM_STARTUP_PAGES]
  --help, --version

An address is host:port, [v6]:port or :port (all interfaces); port 0 picks a free port.
Until a policy is loaded (from the file or the controller) every request is refused (POLICY_NOT_LOADED).`;

export class UsageError extends Error {}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(value: string, flag: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535)
    throw new UsageError(`${flag}: "${value}" is not host:port, [v6]:port or :port`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export interface ControllerOptions {
  url: string;
  /** PEM, or undefined for the system roots. */
  ca: string | undefined;
  tokenFile: string;
  /** `<namespace>/<name>`. */
  pod: string;
}

/** Reads the controller settings; undefined when no controller URL is configured. */
function controllerOptions(
  values: { 'controller-url'?: string; 'controller-ca'?: string; 'token-file'?: string; pod?: string },
  env: NodeJS.ProcessEnv,
): ControllerOptions | undefined {
  const url = values['controller-url'] ?? env[SIDECAR_ENV.controllerUrl];
  if (!url) return undefined;
  if (!/^https:\/\//.test(url)) throw new UsageError(`--controller-url: "${url}" is not an https:// URL`);
  const caFile = values['controller-ca'] ?? env.CHAPERONE_CONTROLLER_CA_FILE;
  const ca = caFile ? readFileSync(caFile, 'utf8') : env[SIDECAR_ENV.controllerCa];
  let tokenFile = values['token-file'] ?? env.CHAPERONE_TOKEN_FILE;
  if (!tokenFile && env[SIDECAR_ENV.tokenFiles]) {
    try {
      tokenFile = (JSON.parse(env[SIDECAR_ENV.tokenFiles]!) as Record<string, string>)[
        CONTROLLER_TOKEN_AUDIENCE
      ];
    } catch {
      throw new UsageError(`${SIDECAR_ENV.tokenFiles} is not a JSON object of audience → file`);
    }
  }
  if (!tokenFile) throw new UsageError('--token-file is required with --controller-url');
  const namespace = env[SIDECAR_ENV.podNamespace];
  const name = env[SIDECAR_ENV.podName];
  const pod = values.pod ?? (namespace && name ? `${namespace}/${name}` : undefined);
  if (!pod || !/^[a-z0-9-]+\/[a-z0-9.-]+$/.test(pod))
    throw new UsageError('--pod NAMESPACE/NAME is required with --controller-url');
  return { url, ca, tokenFile, pod };
}

/** Audience → token file: CHAPERONE_TOKEN_FILES (set by the webhook), then --identity-token flags. */
function identityTokenFiles(flags: string[] | undefined, env: NodeJS.ProcessEnv): Map<string, string> {
  const files = new Map<string, string>();
  const json = env[SIDECAR_ENV.tokenFiles];
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new UsageError(`${SIDECAR_ENV.tokenFiles} is not a JSON object of audience → file`);
    for (const [audience, file] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof file !== 'string' || file === '')
        throw new UsageError(`${SIDECAR_ENV.tokenFiles}: the file for ${audience} is not a path`);
      files.set(audience, file);
    }
  }
  for (const entry of flags ?? []) {
    const at = entry.indexOf('=');
    if (at <= 0 || at === entry.length - 1)
      throw new UsageError(`--identity-token: "${entry}" is not AUDIENCE=FILE`);
    files.set(entry.slice(0, at), entry.slice(at + 1));
  }
  return files;
}

export interface Options {
  policy: string | undefined;
  /** Projected token files by audience (workload identity). */
  identityTokens: Map<string, string>;
  secretsDir: string | undefined;
  controller: ControllerOptions | undefined;
  /** Host name → pinned address. */
  resolve: Map<string, string>;
  listen: { providers: ListenAddress; forwardProxy: ListenAddress; admin: ListenAddress };
  logLevel: string;
  /** Nice value for V8's worker threads (0: left alone). See runtime/background-threads.ts. */
  backgroundNice: number;
  /** Drop start-up's file-backed pages once listening. See runtime/startup-pages.ts. */
  trimStartupPages: boolean;
  help: boolean;
  version: boolean;
}

/** Flags first, then environment variables, then defaults. Throws UsageError on bad input. */
export function readOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string' },
      'secrets-dir': { type: 'string' },
      'providers-address': { type: 'string' },
      'proxy-address': { type: 'string' },
      'admin-address': { type: 'string' },
      'log-level': { type: 'string' },
      'background-nice': { type: 'string' },
      'trim-startup-pages': { type: 'string' },
      'controller-url': { type: 'string' },
      'controller-ca': { type: 'string' },
      'token-file': { type: 'string' },
      pod: { type: 'string' },
      resolve: { type: 'string', multiple: true },
      'identity-token': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const address = (flag: string, envName: string, fallback: string): ListenAddress =>
    parseListenAddress(
      (values[flag as keyof typeof values] as string | undefined) ?? env[envName] ?? fallback,
      `--${flag}`,
    );
  const resolve = new Map<string, string>();
  for (const entry of values.resolve ?? (env.CHAPERONE_RESOLVE ?? '').split(',').filter(Boolean)) {
    const match = /^([a-z0-9.-]+)=([0-9a-fA-F:.]+)$/.exec(entry.trim());
    if (!match || isIP(match[2]!) === 0) throw new UsageError(`--resolve: "${entry}" is not HOST=IP`);
    resolve.set(match[1]!, match[2]!);
  }
  const nice = values['background-nice'] ?? env.CHAPERONE_BACKGROUND_NICE ?? '19';
  if (!/^\d{1,2}$/.test(nice) || Number(nice) > 19)
    throw new UsageError(`--background-nice: "${nice}" is not a nice value from 0 to 19`);
  const trim = values['trim-startup-pages'] ?? env.CHAPERONE_TRIM_STARTUP_PAGES ?? 'on';
  if (trim !== 'on' && trim !== 'off')
    throw new UsageError(`--trim-startup-pages: "${trim}" is not on or off`);
  return {
    policy: values.policy ?? env.CHAPERONE_POLICY_FILE,
    identityTokens: identityTokenFiles(values['identity-token'], env),
    controller: controllerOptions(values, env),
    resolve,
    secretsDir: values['secrets-dir'] ?? env.CHAPERONE_SECRETS_DIR,
    listen: {
      providers: address(
        'providers-address',
        'CHAPERONE_PROVIDERS_ADDRESS',
        `127.0.0.1:${SIDECAR_PORTS.providers}`,
      ),
      forwardProxy: address(
        'proxy-address',
        'CHAPERONE_PROXY_ADDRESS',
        `127.0.0.1:${SIDECAR_PORTS.forwardProxy}`,
      ),
      admin: address('admin-address', SIDECAR_ENV.adminAddress, `127.0.0.1:${SIDECAR_PORTS.admin}`),
    },
    logLevel: values['log-level'] ?? env.CHAPERONE_LOG_LEVEL ?? 'info',
    backgroundNice: Number(nice),
    trimStartupPages: trim === 'on',
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
