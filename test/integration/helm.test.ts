// The Helm chart (charts/chaperone) with the pinned bin/helm against the real apiserver: lint
// (default and strict values, and the schema refusing bad values), `helm template` validated by a
// server-side dry run, then install → upgrade → uninstall of a release in this suite's namespace.
//
// The cluster is shared with suites running in parallel and a MutatingWebhookConfiguration is
// cluster-scoped: the release's webhook selects only namespaces carrying a label unique to this
// suite (none does), so its failurePolicy Fail and its Service without a running pod (no kubelet)
// can never block another suite's pods. Cluster-scoped objects are named after the release.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parse } from 'yaml';
import { CHAPERONE_VERSION } from '../../api/src/injection.ts';
import { POLICY_CRD_NAME } from '../../api/src/names.ts';
import { REPO_ROOT } from '../../hack/cluster/launcher.ts';
import { useTestCluster } from '../helpers/cluster.ts';
import { eventually } from '../helpers/eventually.ts';
import { CHART_DIR, helm, helmResult, kubectlInput, parseManifests } from '../helpers/helm.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { createLogger } from '../../webhook/src/log.ts';
import { CertificateManager } from '../../webhook/src/tls/manager.ts';
import { parseCertificates } from '../../webhook/src/tls/rotation.ts';

const cluster = useTestCluster('helm');
const { namespace, core, apps } = cluster;
const suite = randomBytes(3).toString('hex');
const release = `chaperone-${suite}`;
const controller = `${release}-controller`;
const webhookConfig = `${release}-webhook`;
const tlsSecret = `${release}-controller-tls`;
const SUITE_LABEL = 'chaperone.dev/test-suite';
/**
 * Keeps the installed webhook away from every namespace of the shared cluster. --set-string: a
 * suite id of hex digits only (~6 % of runs), or like `1e5432`, would be read as a number.
 */
const ISOLATED = [
  '--set-string',
  `webhook.namespaceSelector.matchLabels.chaperone\\.dev/test-suite=${suite}`,
];
const STRICT_VALUES = join(CHART_DIR, 'ci', 'strict-values.yaml');
const admissions = cluster.kc.makeApiClient(k8s.AdmissionregistrationV1Api);
const rbac = cluster.kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const policyApi = cluster.kc.makeApiClient(k8s.PolicyV1Api);

type Obj = k8s.KubernetesObject & Record<string, unknown>;

const unb64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');
const fingerprints = (pem: string): string[] => parseCertificates(pem).map((c) => c.fingerprint256);

async function render(...args: string[]): Promise<Obj[]> {
  return parseManifests(await helm('template', release, CHART_DIR, '-n', namespace, ...args)) as Obj[];
}

function find<T = Obj>(objects: readonly Obj[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered`);
  return found as T;
}

async function dryRun(manifest: string): Promise<string> {
  const result = await kubectlInput(manifest, 'apply', '--dry-run=server', '--validate=strict', '-f', '-');
  if (result.code !== 0) throw new Error(`server-side dry run refused the manifest:\n${result.stderr}`);
  return result.stdout;
}

async function canI(verb: string, resource: string, flags: readonly string[]): Promise<string> {
  const scope = flags.includes('-n') ? [] : ['-n', namespace];
  const result = await kubectlInput(
    '',
    'auth',
    'can-i',
    verb,
    resource,
    `--as=system:serviceaccount:${namespace}:${controller}`,
    ...scope,
    ...flags,
  );
  return result.stdout.trim();
}

function envOf(deployment: k8s.V1Deployment): Record<string, string | undefined> {
  const env = deployment.spec?.template.spec?.containers[0]?.env ?? [];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

/** A KubeConfig that authenticates as the chart's ServiceAccount (a TokenRequest token). */
async function serviceAccountKubeConfig(): Promise<k8s.KubeConfig> {
  const request = await core.createNamespacedServiceAccountToken({
    name: controller,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 600 } },
  });
  const admin = cluster.kc.getCurrentCluster()!;
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: admin.server, caData: admin.caData, skipTLSVerify: false }],
    users: [{ name: controller, token: request.status?.token }],
    contexts: [{ name: 'sa', cluster: 'test', user: controller }],
    currentContext: 'sa',
  });
  return kc;
}

afterAll(async () => {
  // Never leave a cluster-scoped webhook behind, whatever failed above.
  await helmResult('uninstall', release, '-n', namespace);
});

describe('chart metadata', () => {
  it('is released at the version of the controller and the sidecar', () => {
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(CHAPERONE_VERSION);
    expect(chart.version).toBe(pkg.version);
  });

  it('ships the generated CRD in crds/, identical to crds/', () => {
    const name = `${POLICY_CRD_NAME}.yaml`;
    expect(readFileSync(join(CHART_DIR, 'crds', name), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'crds', name), 'utf8'),
    );
  });
});

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['the strict values file', ['--strict', '-f', STRICT_VALUES]],
  ])('is clean with %s', async (_name, args) => {
    const result = await helmResult('lint', CHART_DIR, ...args);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it.each([
    ['webhook.timeoutSeconds=10', "at '/webhook/timeoutSeconds': maximum: got 10, want 5"],
    ['webhook.failurePolicy=Sometimes', "at '/webhook/failurePolicy': value must be one of 'Fail', 'Ignore'"],
    ['sidecar.mode=sidecar', "at '/sidecar/mode': value must be one of 'native', 'container'"],
    ['controller.replicaCount=0', "at '/controller/replicaCount': minimum: got 0, want 1"],
    ['controller.logLevel=loud', "at '/controller/logLevel'"],
    ['sidecar.tokenExpirationSeconds=60', "at '/sidecar/tokenExpirationSeconds': minimum: got 60, want 600"],
    ['sidecar.resources.limits.cpu=lots', "at '/sidecar/resources/limits/cpu'"],
    ['certManager.issuerRef.kind=Issuer', "at '/certManager/issuerRef': missing property 'name'"],
    ['webhok.failurePolicy=Fail', "additional properties 'webhok' not allowed"],
  ])('refuses %s through values.schema.json', async (value, message) => {
    const result = await helmResult('lint', CHART_DIR, '--set', value);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(message);
  });
});

describe('helm template, validated by the apiserver (server-side dry run)', () => {
  it('renders the defaults: CRD, controller, RBAC, TLS and webhook, all accepted', async () => {
    const manifest = await helm('template', release, CHART_DIR, '-n', namespace, '--include-crds');
    const out = await dryRun(manifest);
    for (const object of [
      `customresourcedefinition.apiextensions.k8s.io/${POLICY_CRD_NAME}`,
      `deployment.apps/${controller}`,
      `service/${controller}`,
      `serviceaccount/${controller}`,
      `secret/${tlsSecret}`,
      `poddisruptionbudget.policy/${controller}`,
      `clusterrole.rbac.authorization.k8s.io/${controller}`,
      `clusterrolebinding.rbac.authorization.k8s.io/${controller}`,
      `role.rbac.authorization.k8s.io/${controller}`,
      `rolebinding.rbac.authorization.k8s.io/${controller}`,
      `mutatingwebhookconfiguration.admissionregistration.k8s.io/${webhookConfig}`,
    ])
      expect(out).toContain(`${object} `);
    expect(out).not.toContain('networkpolicy');

    const objects = parseManifests(manifest) as Obj[];
    const deployment = find<k8s.V1Deployment>(objects, 'Deployment');
    const pod = deployment.spec!.template.spec!;
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.strategy?.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]).toMatchObject(
      {
        podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' },
      },
    );
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.containers[0]?.image).toBe(`chaperone/chaperone-controller:${CHAPERONE_VERSION}`);
    expect(envOf(deployment)).toMatchObject({
      CHAPERONE_SIDECAR_IMAGE: `chaperone/chaperone-proxy:${CHAPERONE_VERSION}`,
      CHAPERONE_SIDECAR_MODE: 'native',
      CHAPERONE_CONTROLLER_URL: `https://${controller}.${namespace}.svc:443`,
      CHAPERONE_MANAGE_CERTIFICATES: tlsSecret,
      CHAPERONE_WEBHOOK_CONFIG: webhookConfig,
    });

    const config = find<k8s.V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration');
    expect(config.webhooks).toHaveLength(1);
    expect(config.webhooks?.[0]).toMatchObject({
      name: 'inject.chaperone.dev',
      admissionReviewVersions: ['v1'],
      clientConfig: { service: { name: controller, namespace, path: '/mutate', port: 443 } },
      rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      failurePolicy: 'Fail',
      sideEffects: 'None',
      timeoutSeconds: 5,
      reinvocationPolicy: 'IfNeeded',
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', namespace] },
          { key: 'chaperone.dev/injection', operator: 'NotIn', values: ['disabled'] },
        ],
      },
    });
  });

  it('renders every optional knob of the strict values file, all accepted', async () => {
    const manifest = await helm('template', release, CHART_DIR, '-n', namespace, '-f', STRICT_VALUES);
    const out = await dryRun(manifest);
    expect(out).toContain(`networkpolicy.networking.k8s.io/${controller} `);
    const objects = parseManifests(manifest) as Obj[];
    const deployment = find<k8s.V1Deployment>(objects, 'Deployment');
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe(
      'registry.example/chaperone/chaperone-controller@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(deployment.spec?.template.spec?.containers[0]?.args).toContain('--tls-poll-seconds=5');
    expect(envOf(deployment)).toMatchObject({
      CHAPERONE_SIDECAR_IMAGE: 'registry.example/chaperone/chaperone-proxy:0.1.0-rc.1',
      CHAPERONE_SIDECAR_MODE: 'container',
      CHAPERONE_TOKEN_AUDIENCES: 'sts.amazonaws.com,api://AzureADTokenExchange',
      CHAPERONE_SIDECAR_CPU_REQUEST: '100m',
      CHAPERONE_SIDECAR_MEMORY_LIMIT: '512Mi',
      CHAPERONE_NO_PROXY: '10.0.0.0/8,.corp.example',
      CHAPERONE_LOG_LEVEL: 'debug',
    });
    // Rotation off: no flags for it, and no write access to the Secret or the webhook.
    expect(envOf(deployment).CHAPERONE_MANAGE_CERTIFICATES).toBeUndefined();
    expect(JSON.stringify(find(objects, 'ClusterRole'))).not.toContain('mutatingwebhookconfigurations');
    expect(JSON.stringify(find(objects, 'Role'))).not.toContain('secrets');

    const webhook = find<k8s.V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration')
      .webhooks![0]!;
    expect(webhook.failurePolicy).toBe('Ignore');
    expect(webhook.timeoutSeconds).toBe(3);
    expect(webhook.namespaceSelector).toEqual({
      matchLabels: { 'example.com/ai-workloads': 'true' },
      matchExpressions: [
        {
          key: 'kubernetes.io/metadata.name',
          operator: 'NotIn',
          values: ['kube-system', namespace, 'monitoring', 'ingress'],
        },
        { key: 'chaperone.dev/injection', operator: 'NotIn', values: ['disabled'] },
        { key: 'example.com/environment', operator: 'In', values: ['prod', 'staging'] },
      ],
    });
    expect(webhook.objectSelector).toEqual({
      matchExpressions: [{ key: 'example.com/no-chaperone', operator: 'DoesNotExist' }],
    });
  });

  it('with cert-manager: a CA, Issuers and a serving Certificate; no generated Secret, no caBundle', async () => {
    const objects = await render('--set', 'certManager.enabled=true');
    // cert-manager's CRDs are not installed here: everything else is applied, its objects are asserted.
    const own = objects.filter((o) => !o.apiVersion?.startsWith('cert-manager.io/'));
    await dryRun(own.map((o) => JSON.stringify(o)).join('\n'));

    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const certificate = find(objects, 'Certificate', controller);
    expect(certificate.spec).toMatchObject({
      secretName: tlsSecret,
      commonName: `${controller}.${namespace}.svc`,
      dnsNames: [
        controller,
        `${controller}.${namespace}`,
        `${controller}.${namespace}.svc`,
        `${controller}.${namespace}.svc.cluster.local`,
      ],
      issuerRef: { name: `${release}-webhook-ca`, kind: 'Issuer', group: 'cert-manager.io' },
    });
    expect(find(objects, 'Certificate', `${release}-webhook-ca`).spec).toMatchObject({
      isCA: true,
      secretName: `${release}-webhook-ca`,
      issuerRef: { name: `${release}-selfsigned`, kind: 'Issuer' },
    });
    expect(find(objects, 'Issuer', `${release}-selfsigned`).spec).toEqual({ selfSigned: {} });
    expect(find(objects, 'Issuer', `${release}-webhook-ca`).spec).toEqual({
      ca: { secretName: `${release}-webhook-ca` },
    });
    const config = find<k8s.V1MutatingWebhookConfiguration>(objects, 'MutatingWebhookConfiguration');
    expect(config.metadata?.annotations).toEqual({
      'cert-manager.io/inject-ca-from': `${namespace}/${controller}`,
    });
    expect(config.webhooks?.[0]?.clientConfig.caBundle).toBeUndefined();
    expect(
      envOf(find<k8s.V1Deployment>(objects, 'Deployment')).CHAPERONE_MANAGE_CERTIFICATES,
    ).toBeUndefined();
  });

  it('with cert-manager and an issuerRef: only the serving Certificate, signed by that issuer', async () => {
    const objects = await render(
      '--set',
      'certManager.enabled=true,certManager.issuerRef.name=corp-ca,certManager.issuerRef.kind=ClusterIssuer',
    );
    expect(objects.filter((o) => o.apiVersion?.startsWith('cert-manager.io/')).map((o) => o.kind)).toEqual([
      'Certificate',
    ]);
    expect(find(objects, 'Certificate').spec).toMatchObject({
      issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' },
    });
  });

  it('with monitoring: a PodMonitor for the sidecars, a ServiceMonitor and alerts, each with its runbook', async () => {
    const objects = await render(
      '--set',
      'metrics.podMonitor.enabled=true,metrics.serviceMonitor.enabled=true,prometheusRule.enabled=true',
    );
    expect(find(objects, 'PodMonitor').spec).toMatchObject({
      namespaceSelector: { any: true },
      podMetricsEndpoints: [{ port: 'chaperone-admin', path: '/metrics' }],
    });
    expect(find(objects, 'ServiceMonitor').spec).toMatchObject({
      endpoints: [
        { port: 'https', scheme: 'https', tlsConfig: { ca: { secret: { name: tlsSecret, key: 'ca.crt' } } } },
      ],
    });
    const groups = (
      find(objects, 'PrometheusRule').spec as { groups: { rules: Record<string, unknown>[] }[] }
    ).groups;
    const rules = groups.flatMap((g) => g.rules) as { alert: string; annotations: Record<string, string> }[];
    expect(rules.map((r) => r.alert)).toEqual([
      'ChaperoneKillSwitchEngaged',
      'ChaperoneCircuitOpen',
      'ChaperonePiiBlockedSpike',
      'ChaperonePromptInjectionDetected',
      'ChaperoneCostBurst',
      'ChaperoneSidecarsNotAcknowledging',
      'ChaperoneControllerUnavailable',
    ]);
    for (const rule of rules) {
      const runbook = rule.annotations.runbook ?? '';
      expect(runbook).toMatch(/^docs\/runbooks\/[a-z-]+\.md$/);
      expect(existsSync(join(REPO_ROOT, runbook))).toBe(true);
      expect(readFileSync(join(REPO_ROOT, runbook), 'utf8')).toContain(rule.alert);
    }
  });
});

describe('helm install, upgrade, uninstall on the local cluster', () => {
  let installedCert: string;

  beforeAll(async () => {
    // The controller's pods must pass the restricted Pod Security Standard.
    await kubectl('label', 'namespace', namespace, 'pod-security.kubernetes.io/enforce=restricted');
  });

  it('installs: controller, Service, PDB, RBAC, TLS Secret and a webhook whose caBundle verifies it', async () => {
    const out = await helm('install', release, CHART_DIR, '-n', namespace, ...ISOLATED);
    expect(out).toContain('STATUS: deployed');
    expect(out).toContain(`kubectl -n ${namespace} rollout status deployment/${controller}`);

    const deployment = await apps.readNamespacedDeployment({ name: controller, namespace });
    expect(deployment.spec?.replicas).toBe(2);
    // No kubelet: the pods are created (admitted under `restricted`) and stay Pending.
    const pods = await eventually('the controller pods', async () => {
      const list = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${release}`,
      });
      return list.items.length === 2 ? list.items : undefined;
    });
    for (const pod of pods) {
      expect(pod.spec?.serviceAccountName).toBe(controller);
      expect(pod.status?.phase).toBe('Pending');
    }

    const service = await core.readNamespacedService({ name: controller, namespace });
    expect(service.spec?.ports).toEqual([
      expect.objectContaining({ name: 'https', port: 443, targetPort: 'https' }),
    ]);
    const pdb = await policyApi.readNamespacedPodDisruptionBudget({ name: controller, namespace });
    expect(pdb.spec?.minAvailable).toBe(1);
    await core.readNamespacedServiceAccount({ name: controller, namespace });
    await rbac.readClusterRoleBinding({ name: controller });
    await rbac.readNamespacedRoleBinding({ name: controller, namespace });

    const secret = await core.readNamespacedSecret({ name: tlsSecret, namespace });
    expect(secret.type).toBe('kubernetes.io/tls');
    installedCert = unb64(secret.data?.['tls.crt']);
    const leaf = new X509Certificate(installedCert);
    expect(leaf.subjectAltName).toContain(`DNS:${controller}.${namespace}.svc`);
    expect(leaf.checkPrivateKey(createPrivateKey(unb64(secret.data?.['tls.key'])))).toBe(true);
    const config = await admissions.readMutatingWebhookConfiguration({ name: webhookConfig });
    const caBundle = unb64(config.webhooks?.[0]?.clientConfig.caBundle);
    const [ca] = parseCertificates(caBundle);
    expect(leaf.checkIssued(ca!) && leaf.verify(ca!.publicKey)).toBe(true);
    expect(caBundle).toBe(unb64(secret.data?.['ca.crt']));
    expect(config.webhooks?.[0]?.namespaceSelector?.matchLabels).toEqual({ [SUITE_LABEL]: suite });
  });

  it.each([
    ['list', 'pods', [], 'yes'],
    ['watch', 'namespaces', [], 'yes'],
    ['watch', 'aiproviderpolicies.chaperone.dev', [], 'yes'],
    ['patch', 'aiproviderpolicies.chaperone.dev', ['--subresource=status'], 'yes'],
    ['update', 'aiproviderpolicies.chaperone.dev', [], 'no'],
    ['get', 'secrets', ['-n', 'default'], 'yes'],
    ['list', 'secrets', ['-n', 'default'], 'no'],
    ['create', 'events', ['-n', 'default'], 'yes'],
    ['create', 'pods', ['-n', 'default'], 'no'],
    ['update', 'leases.coordination.k8s.io', [], 'yes'],
    ['update', 'leases.coordination.k8s.io', ['-n', 'default'], 'no'],
    ['update', 'secrets/TLS', [], 'yes'],
    ['update', 'secrets/other', [], 'no'],
    ['patch', 'mutatingwebhookconfigurations/WEBHOOK', [], 'yes'],
    ['patch', 'mutatingwebhookconfigurations/someone-elses', [], 'no'],
  ])('grants the controller least privilege: %s %s %j → %s', async (verb, resource, flags, answer) => {
    const target = resource.replace('TLS', tlsSecret).replace('WEBHOOK', webhookConfig);
    expect(await canI(verb, target, flags)).toBe(answer);
  });

  it("renews the generated certificate as the chart's ServiceAccount (its RBAC suffices)", async () => {
    const kc = await serviceAccountKubeConfig();
    // 400 days before a 365-day certificate's expiry: due now.
    const manager = new CertificateManager({
      kc,
      namespace,
      secretName: tlsSecret,
      webhookConfigName: webhookConfig,
      validityDays: 365,
      renewBeforeDays: 400,
      checkIntervalSeconds: 3600,
      fallbackDnsNames: [],
      logger: createLogger('silent'),
    });
    expect(await manager.reconcile()).toMatchObject({ action: 'rotated', reason: 'EXPIRING' });
    const secret = await core.readNamespacedSecret({ name: tlsSecret, namespace });
    const config = await admissions.readMutatingWebhookConfiguration({ name: webhookConfig });
    const ca = unb64(secret.data?.['ca.crt']);
    expect(fingerprints(ca)).toHaveLength(2); // the new CA and the one that signed the installed leaf
    expect(unb64(config.webhooks?.[0]?.clientConfig.caBundle)).toBe(ca);
    expect(unb64(secret.data?.['tls.crt'])).not.toBe(installedCert);
    installedCert = unb64(secret.data?.['tls.crt']);
  });

  it('upgrades with changed values and keeps the TLS Secret and caBundle as they are', async () => {
    const before = await core.readNamespacedSecret({ name: tlsSecret, namespace });
    const configBefore = await admissions.readMutatingWebhookConfiguration({ name: webhookConfig });
    const out = await helm(
      'upgrade',
      release,
      CHART_DIR,
      '-n',
      namespace,
      '--reuse-values',
      '--set',
      'controller.logLevel=debug,controller.replicaCount=3',
    );
    expect(out).toContain('REVISION: 2');

    const deployment = await apps.readNamespacedDeployment({ name: controller, namespace });
    expect(deployment.spec?.replicas).toBe(3);
    expect(envOf(deployment).CHAPERONE_LOG_LEVEL).toBe('debug');
    const after = await core.readNamespacedSecret({ name: tlsSecret, namespace });
    expect(after.data).toEqual(before.data);
    expect(unb64(after.data?.['tls.crt'])).toBe(installedCert);
    const configAfter = await admissions.readMutatingWebhookConfiguration({ name: webhookConfig });
    expect(configAfter.webhooks?.[0]?.clientConfig.caBundle).toBe(
      configBefore.webhooks?.[0]?.clientConfig.caBundle,
    );
    expect(configAfter.webhooks?.[0]?.namespaceSelector?.matchLabels).toEqual({ [SUITE_LABEL]: suite });
  });

  it('uninstalls without leaving an object of the release behind; the CRD stays', async () => {
    await helm('uninstall', release, '-n', namespace);
    const selector = `app.kubernetes.io/instance=${release}`;
    await eventually(
      'every object of the release to be gone',
      async () => {
        const namespaced = await kubectl(
          'get',
          'deployments,replicasets,pods,services,serviceaccounts,secrets,roles,rolebindings,poddisruptionbudgets,networkpolicies',
          '-n',
          namespace,
          '-l',
          selector,
          '-o',
          'name',
        );
        const clusterScoped = await kubectl(
          'get',
          'clusterroles,clusterrolebindings,mutatingwebhookconfigurations',
          '-l',
          selector,
          '-o',
          'name',
        );
        return namespaced.trim() === '' && clusterScoped.trim() === '' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await expect(core.readNamespacedSecret({ name: tlsSecret, namespace })).rejects.toMatchObject({
      code: 404,
    });
    await expect(admissions.readMutatingWebhookConfiguration({ name: webhookConfig })).rejects.toMatchObject({
      code: 404,
    });
    const crd = await cluster.apiextensions.readCustomResourceDefinition({ name: POLICY_CRD_NAME });
    expect(crd.metadata?.name).toBe(POLICY_CRD_NAME);
    expect(await helmResult('status', release, '-n', namespace)).toMatchObject({ code: 1 });
  });
});
