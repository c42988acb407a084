// The sidecar's command line and environment, parsed and checked before anything starts.
import { parseArgs } from 'node:util';
import { CHAPERONE_VERSION, SIDECAR_ENV } from '../../../api/src/injection.ts';
import { SIDECAR_PORTS } from '../../../api/src/names.ts';
import type { ListenAddress } from '../sidecar.ts';

export const USAGE = `chaperone-proxy ${CHAPERONE_VERSION} — the Chaperone egress sidecar

Usage: chaperone-proxy --policy FILE [--secrets-dir DIR] [options]

  --policy FILE            AIProviderPolicy manifest (YAML/JSON); reloaded when it changes   [CHAPERONE_POLICY_FILE]
  --secrets-dir DIR        secretRef {name, key} is read from DIR/<name>/<key>                [CHAPERONE_SECRETS_DIR]
  --providers-address A    provider endpoints, base-URL mode (default 127.0.0.1:${SIDECAR_PORTS.providers})      [CHAPERONE_PROVIDERS_ADDRESS]
  --proxy-address A        forward proxy, HTTP_PROXY/HTTPS_PROXY (default 127.0.0.1:${SIDECAR_PORTS.forwardProxy})  [CHAPERONE_PROXY_ADDRESS]
  --admin-address A        /healthz /readyz /metrics /status (default 127.0.0.1:${SIDECAR_PORTS.admin})       [${SIDECAR_ENV.adminAddress}]
  --log-level LEVEL        pino level (default info)                                            [CHAPERONE_LOG_LEVEL]
  --help, --version

An address is host:port, [v6]:port or :port (all interfaces); port 0 picks a free port.
Without --policy the sidecar has no policy source yet and refuses all egress (POLICY_NOT_LOADED).`;

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

export interface Options {
  policy: string | undefined;
  secretsDir: string | undefined;
  listen: { providers: ListenAddress; forwardProxy: ListenAddress; admin: ListenAddress };
  logLevel: string;
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
  return {
    policy: values.policy ?? env.CHAPERONE_POLICY_FILE,
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
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
