import { describe, expect, it } from '@jest/globals';
import { ConfigError } from './errors.ts';
import { FLAGS, USAGE, parseConfig, type ControllerConfig } from './config.ts';

const base = ['--kubeconfig', 'kc', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'];

function config(argv: string[], env: Record<string, string> = {}, podNamespace?: string): ControllerConfig {
  const parsed = parseConfig({ argv, env, podNamespace });
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
}

function refusal(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig({ argv, env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('reads the flags with their defaults', () => {
    expect(config(base)).toMatchObject({
      kubeconfig: 'kc',
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
      listen: { host: '0.0.0.0', port: 9443 },
      namespace: 'chaperone-system',
      logLevel: 'info',
      maxBodyBytes: 3 * 1024 * 1024,
      inject: {
        sidecarMode: 'native',
        imagePullPolicy: 'IfNotPresent',
        controllerUrl: 'https://chaperone-controller.chaperone-system.svc:443',
        tokenExpirationSeconds: 3600,
        tokenAudiences: [],
        clusterDomain: 'cluster.local',
      },
    });
  });

  it('falls back to the environment; a flag wins over it', () => {
    const env = {
      CHAPERONE_KUBECONFIG: 'env-kc',
      CHAPERONE_LISTEN: '127.0.0.1:8443',
      CHAPERONE_TLS_CERT: 'env.crt',
      CHAPERONE_TLS_KEY: 'env.key',
      CHAPERONE_NAMESPACE: 'security',
      CHAPERONE_SIDECAR_MODE: 'container',
      CHAPERONE_TOKEN_AUDIENCES: 'sts.amazonaws.com, vault',
      CHAPERONE_NO_PROXY: '10.0.0.0/8',
    };
    expect(config([], env)).toMatchObject({
      kubeconfig: 'env-kc',
      listen: { host: '127.0.0.1', port: 8443 },
      tlsCert: 'env.crt',
      namespace: 'security',
      inject: {
        sidecarMode: 'container',
        tokenAudiences: ['sts.amazonaws.com', 'vault'],
        noProxy: ['10.0.0.0/8'],
        controllerUrl: 'https://chaperone-controller.security.svc:443',
      },
    });
    expect(config(['--listen', '127.0.0.1:0', '--namespace', 'flag-ns'], env)).toMatchObject({
      listen: { host: '127.0.0.1', port: 0 },
      namespace: 'flag-ns',
    });
  });

  it("uses the pod's namespace file inside a cluster, and needs no kubeconfig there", () => {
    const c = config(
      ['--tls-cert', 'c', '--tls-key', 'k'],
      { KUBERNETES_SERVICE_HOST: '10.0.0.1' },
      'chaperone\n',
    );
    expect(c.kubeconfig).toBeUndefined();
    expect(c.namespace).toBe('chaperone');
  });

  it.each([
    ['[::1]:9443', { host: '::1', port: 9443 }],
    [':9443', { host: '0.0.0.0', port: 9443 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('parses --listen %s', (listen, expected) => {
    expect(config([...base, '--listen', listen]).listen).toEqual(expected);
  });

  it.each([
    [
      ['--tls-cert', 'c', '--tls-key', 'k'],
      {},
      /--kubeconfig \(or CHAPERONE_KUBECONFIG\) is required outside a cluster/,
    ],
    [['--kubeconfig', 'kc', '--tls-key', 'k'], {}, /--tls-cert \(or CHAPERONE_TLS_CERT\) is required/],
    [['--kubeconfig', 'kc', '--tls-cert', 'c'], {}, /--tls-key \(or CHAPERONE_TLS_KEY\) is required/],
    [[...base, '--listen', '9443'], {}, /--listen .* must be HOST:PORT/],
    [[...base, '--listen', '0.0.0.0:70000'], {}, /--listen/],
    [[...base, '--sidecar-mode', 'sidecar'], {}, /--sidecar-mode .* must be one of native, container/],
    [[...base, '--token-expiration-seconds', '60'], {}, /from 600 to 86400, got "60"/],
    [[...base], { CHAPERONE_MAX_BODY_BYTES: 'lots' }, /--max-body-bytes \(CHAPERONE_MAX_BODY_BYTES\)/],
    [[...base, '--log-level', 'loud'], {}, /--log-level/],
    [[...base, '--image-pull-policy', 'Sometimes'], {}, /Always, IfNotPresent, Never/],
    [[...base, '--controller-url', 'ftp://x'], {}, /--controller-url .* must be an http\(s\) URL/],
    [[...base, '--sidecar-cpu-limit', 'lots'], {}, /--sidecar-cpu-limit .* positive Kubernetes quantity/],
    [
      [...base, '--sidecar-memory-request', '1Gi'],
      {},
      /--sidecar-memory-request 1Gi exceeds --sidecar-memory-limit 256Mi/,
    ],
    [
      [...base, '--manage-certificates', 'tls'],
      {},
      /--webhook-config .* is required with --manage-certificates/,
    ],
    [
      [...base, '--manage-certificates', 'tls', '--webhook-config', 'w', '--cert-renew-before-days', '365'],
      {},
      /--cert-renew-before-days \(365\) must be less than --cert-validity-days \(365\)/,
    ],
    [[...base, '--unknown'], {}, /Unknown option '--unknown'/],
    [[...base, 'positional'], {}, /positional/],
  ])('refuses %j with CONFIG_INVALID', (argv, env, message) => {
    const err = refusal(argv, env);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(message);
  });

  it('sets the sidecar resources from flags or the environment, defaulting to SIDECAR_DEFAULTS', () => {
    expect(config(base).inject.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '1', memory: '256Mi' },
    });
    expect(
      config([...base, '--sidecar-cpu-request', '200m'], { CHAPERONE_SIDECAR_MEMORY_LIMIT: '1Gi' }).inject
        .resources,
    ).toEqual({ requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } });
  });

  it('manages certificates only when asked, with the renewal defaults', () => {
    expect(config(base).certificates).toBeUndefined();
    expect(
      config([...base, '--manage-certificates', 'ctl-tls'], { CHAPERONE_WEBHOOK_CONFIG: 'ctl-webhook' })
        .certificates,
    ).toEqual({
      secretName: 'ctl-tls',
      webhookConfigName: 'ctl-webhook',
      validityDays: 365,
      renewBeforeDays: 30,
      checkIntervalSeconds: 3600,
    });
  });

  it('answers --help and documents every flag with its environment variable', () => {
    expect(parseConfig({ argv: ['--help'], env: {} })).toEqual({ help: true });
    for (const [name, spec] of Object.entries(FLAGS)) {
      expect(USAGE).toContain(`--${name}`);
      expect(USAGE).toContain(spec.env);
    }
  });
});
