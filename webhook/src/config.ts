// chaperone-controller's configuration: flags, each with an environment fallback (flag wins).
// Pure: the caller passes argv, the environment and the in-cluster namespace file's content.
import { parseArgs } from 'node:util';
import {
  SIDECAR_DEFAULTS,
  SIDECAR_MODES,
  TOKEN_EXPIRATION,
  type SidecarMode,
} from '../../api/src/injection.ts';
import { ConfigError } from './errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from './server/app.ts';
import { parseQuantity } from './inject/quantity.ts';
import { defaultInjectOptions, type InjectOptions, type Resources } from './inject/settings.ts';

export interface ControllerConfig {
  /** undefined: use the in-cluster service account. */
  kubeconfig: string | undefined;
  listen: { host: string; port: number };
  tlsCert: string;
  tlsKey: string;
  namespace: string;
  logLevel: string;
  maxBodyBytes: number;
  tlsPollSeconds: number;
  leaderElect: boolean;
  identity: string;
  inject: InjectOptions;
  /** PEM file of the CA sidecars trust for the policy stream; re-read with the certificate. */
  controllerCaFile: string | undefined;
  /** Set when this controller renews its own generated webhook certificate (--manage-certificates). */
  certificates: CertificateConfig | undefined;
}

export interface CertificateConfig {
  /** The TLS Secret in --namespace (tls.crt, tls.key, ca.crt). */
  secretName: string;
  /** The MutatingWebhookConfiguration whose caBundle must trust the Secret's CA. */
  webhookConfigName: string;
  validityDays: number;
  renewBeforeDays: number;
  checkIntervalSeconds: number;
}

interface FlagSpec {
  env: string;
  value: string;
  help: string;
}

export const FLAGS = {
  kubeconfig: {
    env: 'CHAPERONE_KUBECONFIG',
    value: 'FILE',
    help: 'kubeconfig to use; unset inside a cluster (service account)',
  },
  listen: {
    env: 'CHAPERONE_LISTEN',
    value: 'HOST:PORT',
    help: 'HTTPS listen address (default 0.0.0.0:9443; port 0 picks a free one)',
  },
  'tls-cert': {
    env: 'CHAPERONE_TLS_CERT',
    value: 'FILE',
    help: 'serving certificate (PEM, chain allowed); reloaded on change',
  },
  'tls-key': {
    env: 'CHAPERONE_TLS_KEY',
    value: 'FILE',
    help: 'private key of the serving certificate (PEM); reloaded on change',
  },
  namespace: {
    env: 'CHAPERONE_NAMESPACE',
    value: 'NAME',
    help: "the controller's namespace, never injected (default: the pod's, else chaperone-system)",
  },
  'sidecar-image': {
    env: 'CHAPERONE_SIDECAR_IMAGE',
    value: 'IMAGE',
    help: 'chaperone-proxy image reference',
  },
  'sidecar-mode': {
    env: 'CHAPERONE_SIDECAR_MODE',
    value: 'MODE',
    help: 'native (init container, restartPolicy Always; default) or container',
  },
  'image-pull-policy': {
    env: 'CHAPERONE_IMAGE_PULL_POLICY',
    value: 'POLICY',
    help: 'Always, IfNotPresent (default) or Never',
  },
  'controller-url': {
    env: 'CHAPERONE_CONTROLLER_URL',
    value: 'URL',
    help: 'where sidecars reach this controller (default https://chaperone-controller.<namespace>.svc:443)',
  },
  'controller-ca': {
    env: 'CHAPERONE_CONTROLLER_CA_FILE',
    value: 'FILE',
    help: 'CA the sidecars trust for --controller-url, given to them at injection (default: ca.crt beside --tls-cert, when present)',
  },
  'token-expiration-seconds': {
    env: 'CHAPERONE_TOKEN_EXPIRATION_SECONDS',
    value: 'N',
    help: `projected token lifetime, ${TOKEN_EXPIRATION.min}..${TOKEN_EXPIRATION.max} (default ${TOKEN_EXPIRATION.default})`,
  },
  'token-audiences': {
    env: 'CHAPERONE_TOKEN_AUDIENCES',
    value: 'LIST',
    help: 'extra token audiences for every injected pod, comma-separated',
  },
  'no-proxy': {
    env: 'CHAPERONE_NO_PROXY',
    value: 'LIST',
    help: "extra NO_PROXY entries for every app (e.g. the cluster's pod and service CIDRs)",
  },
  'cluster-domain': {
    env: 'CHAPERONE_CLUSTER_DOMAIN',
    value: 'DOMAIN',
    help: 'cluster DNS domain kept direct in NO_PROXY (default cluster.local)',
  },
  'max-body-bytes': {
    env: 'CHAPERONE_MAX_BODY_BYTES',
    value: 'N',
    help: `largest AdmissionReview accepted (default ${DEFAULT_MAX_BODY_BYTES})`,
  },
  'tls-poll-seconds': {
    env: 'CHAPERONE_TLS_POLL_SECONDS',
    value: 'N',
    help: 're-read the certificate files at least this often (default 10)',
  },
  'leader-elect': {
    env: 'CHAPERONE_LEADER_ELECT',
    value: 'BOOL',
    help: 'elect one replica (Lease in --namespace) to write policy status; false: this one always does (default true)',
  },
  identity: {
    env: 'CHAPERONE_IDENTITY',
    value: 'NAME',
    help: "this replica's name in Leases (default: the pod name from HOSTNAME)",
  },
  'sidecar-cpu-request': {
    env: 'CHAPERONE_SIDECAR_CPU_REQUEST',
    value: 'QUANTITY',
    help: `sidecar CPU request unless a pod annotation sets it (default ${SIDECAR_DEFAULTS.resources.requests.cpu})`,
  },
  'sidecar-cpu-limit': {
    env: 'CHAPERONE_SIDECAR_CPU_LIMIT',
    value: 'QUANTITY',
    help: `sidecar CPU limit (default ${SIDECAR_DEFAULTS.resources.limits.cpu})`,
  },
  'sidecar-memory-request': {
    env: 'CHAPERONE_SIDECAR_MEMORY_REQUEST',
    value: 'QUANTITY',
    help: `sidecar memory request (default ${SIDECAR_DEFAULTS.resources.requests.memory})`,
  },
  'sidecar-memory-limit': {
    env: 'CHAPERONE_SIDECAR_MEMORY_LIMIT',
    value: 'QUANTITY',
    help: `sidecar memory limit (default ${SIDECAR_DEFAULTS.resources.limits.memory})`,
  },
  'manage-certificates': {
    env: 'CHAPERONE_MANAGE_CERTIFICATES',
    value: 'SECRET',
    help: 'renew the generated serving certificate in this TLS Secret (in --namespace) before it expires',
  },
  'webhook-config': {
    env: 'CHAPERONE_WEBHOOK_CONFIG',
    value: 'NAME',
    help: "the MutatingWebhookConfiguration whose caBundle trusts the Secret's CA (with --manage-certificates)",
  },
  'cert-validity-days': {
    env: 'CHAPERONE_CERT_VALIDITY_DAYS',
    value: 'N',
    help: 'lifetime of a renewed CA and certificate (default 365)',
  },
  'cert-renew-before-days': {
    env: 'CHAPERONE_CERT_RENEW_BEFORE_DAYS',
    value: 'N',
    help: 'renew when fewer days than this remain (default 30)',
  },
  'cert-check-seconds': {
    env: 'CHAPERONE_CERT_CHECK_SECONDS',
    value: 'N',
    help: 'how often the certificate is checked (default 3600)',
  },
  'log-level': {
    env: 'CHAPERONE_LOG_LEVEL',
    value: 'LEVEL',
    help: 'fatal, error, warn, info (default), debug, trace',
  },
} as const satisfies Record<string, FlagSpec>;

type FlagName = keyof typeof FLAGS;

export const USAGE = [
  'Usage: chaperone-controller --tls-cert FILE --tls-key FILE [--kubeconfig FILE] [--listen HOST:PORT] [options]',
  '',
  'Every flag can also be set through its environment variable; the flag wins.',
  '',
  ...Object.entries(FLAGS).map(
    ([name, spec]: [string, FlagSpec]) =>
      `  --${`${name} ${spec.value}`.padEnd(34)} ${spec.env.padEnd(36)} ${spec.help}`,
  ),
  `  --${'help'.padEnd(34)} ${''.padEnd(36)} print this and exit`,
].join('\n');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export interface ConfigInput {
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Content of /var/run/secrets/kubernetes.io/serviceaccount/namespace, when running in a pod. */
  podNamespace?: string;
}

export type ParsedConfig = { help: true } | { help: false; config: ControllerConfig };

export function parseConfig({ argv, env, podNamespace }: ConfigInput): ParsedConfig {
  let values: Partial<Record<FlagName | 'help', string | boolean>>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }])),
      },
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help === true) return { help: true };

  const get = (name: FlagName): string | undefined => {
    const flag = values[name];
    const value = typeof flag === 'string' ? flag : env[FLAGS[name].env];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const require = (name: FlagName): string => {
    const value = get(name);
    if (value === undefined) throw new ConfigError(`--${name} (or ${FLAGS[name].env}) is required`);
    return value;
  };
  const integer = (name: FlagName, fallback: number, min: number, max: number): number => {
    const text = get(name);
    if (text === undefined) return fallback;
    const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max)) {
      throw new ConfigError(
        `--${name} (${FLAGS[name].env}) must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
      );
    }
    return value;
  };
  const oneOf = <T extends string>(name: FlagName, allowed: readonly T[], fallback: T): T => {
    const text = get(name);
    if (text === undefined) return fallback;
    const found = allowed.find((a) => a === text);
    if (!found)
      throw new ConfigError(
        `--${name} (${FLAGS[name].env}) must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`,
      );
    return found;
  };
  const list = (name: FlagName): string[] =>
    (get(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');

  const kubeconfig = get('kubeconfig');
  if (kubeconfig === undefined && !env.KUBERNETES_SERVICE_HOST) {
    throw new ConfigError(`--kubeconfig (or ${FLAGS.kubeconfig.env}) is required outside a cluster`);
  }
  const namespace = get('namespace') ?? podNamespace?.trim() ?? 'chaperone-system';
  const sidecarMode: SidecarMode = oneOf('sidecar-mode', SIDECAR_MODES, 'native');
  const defaults = defaultInjectOptions();

  return {
    help: false,
    config: {
      kubeconfig,
      listen: parseListen(get('listen') ?? '0.0.0.0:9443'),
      tlsCert: require('tls-cert'),
      tlsKey: require('tls-key'),
      namespace,
      logLevel: oneOf('log-level', LOG_LEVELS, 'info'),
      maxBodyBytes: integer('max-body-bytes', DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024),
      tlsPollSeconds: integer('tls-poll-seconds', 10, 1, 3600),
      leaderElect: oneOf('leader-elect', ['true', 'false'], 'true') === 'true',
      identity: (get('identity') ?? env.HOSTNAME ?? `controller-${process.pid}`).toLowerCase(),
      controllerCaFile: get('controller-ca'),
      inject: {
        ...defaults,
        image: get('sidecar-image') ?? defaults.image,
        imagePullPolicy: oneOf('image-pull-policy', PULL_POLICIES, 'IfNotPresent'),
        sidecarMode,
        controllerUrl: parseUrl(get('controller-url') ?? `https://chaperone-controller.${namespace}.svc:443`),
        tokenExpirationSeconds: integer(
          'token-expiration-seconds',
          TOKEN_EXPIRATION.default,
          TOKEN_EXPIRATION.min,
          TOKEN_EXPIRATION.max,
        ),
        tokenAudiences: list('token-audiences'),
        noProxy: list('no-proxy'),
        clusterDomain: get('cluster-domain') ?? defaults.clusterDomain,
        resources: sidecarResources(get),
      },
      certificates: certificateConfig(get, integer),
    },
  };
}

function sidecarResources(get: (name: FlagName) => string | undefined): Resources {
  const d = SIDECAR_DEFAULTS.resources;
  const quantity = (name: FlagName, fallback: string): string => {
    const text = get(name);
    if (text === undefined) return fallback;
    const value = parseQuantity(text);
    if (value === undefined || !(value > 0))
      throw new ConfigError(
        `--${name} (${FLAGS[name].env}) must be a positive Kubernetes quantity (e.g. 100m, 1, 128Mi), got ${JSON.stringify(text)}`,
      );
    return text;
  };
  const resources: Resources = {
    requests: {
      cpu: quantity('sidecar-cpu-request', d.requests.cpu),
      memory: quantity('sidecar-memory-request', d.requests.memory),
    },
    limits: {
      cpu: quantity('sidecar-cpu-limit', d.limits.cpu),
      memory: quantity('sidecar-memory-limit', d.limits.memory),
    },
  };
  for (const kind of ['cpu', 'memory'] as const) {
    if (parseQuantity(resources.requests[kind])! > parseQuantity(resources.limits[kind])!)
      throw new ConfigError(
        `--sidecar-${kind}-request ${resources.requests[kind]} exceeds --sidecar-${kind}-limit ${resources.limits[kind]}`,
      );
  }
  return resources;
}

function certificateConfig(
  get: (name: FlagName) => string | undefined,
  integer: (name: FlagName, fallback: number, min: number, max: number) => number,
): CertificateConfig | undefined {
  const secretName = get('manage-certificates');
  if (secretName === undefined) return undefined;
  const webhookConfigName = get('webhook-config');
  if (webhookConfigName === undefined)
    throw new ConfigError(
      `--webhook-config (${FLAGS['webhook-config'].env}) is required with --manage-certificates`,
    );
  const validityDays = integer('cert-validity-days', 365, 2, 3650);
  const renewBeforeDays = integer('cert-renew-before-days', 30, 1, 3650);
  if (renewBeforeDays >= validityDays)
    throw new ConfigError(
      `--cert-renew-before-days (${renewBeforeDays}) must be less than --cert-validity-days (${validityDays})`,
    );
  return {
    secretName,
    webhookConfigName,
    validityDays,
    renewBeforeDays,
    checkIntervalSeconds: integer('cert-check-seconds', 3600, 1, 86_400),
  };
}

function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new ConfigError(
      `--listen (${FLAGS.listen.env}) must be HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`,
    );
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function parseUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    return text;
  } catch {
    throw new ConfigError(
      `--controller-url (${FLAGS['controller-url'].env}) must be an http(s) URL, got ${JSON.stringify(text)}`,
    );
  }
}
