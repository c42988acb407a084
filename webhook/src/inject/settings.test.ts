import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ERROR_CODES, InvalidOverrideError } from '../errors.ts';
import { defaultInjectOptions, resolveSettings, type MutateOptions } from './settings.ts';

function pod(annotations: Record<string, string>, containers = ['app']): V1Pod {
  return { metadata: { annotations }, spec: { containers: containers.map((name) => ({ name })) } };
}

function refusal(
  annotations: Record<string, string>,
  options: MutateOptions = defaultInjectOptions(),
): InvalidOverrideError {
  try {
    resolveSettings(pod(annotations), options);
  } catch (err) {
    if (err instanceof InvalidOverrideError) return err;
    throw err;
  }
  throw new Error('expected an InvalidOverrideError');
}

describe('resolveSettings: defaults', () => {
  it('are hardened and documented values', () => {
    const { settings, warnings } = resolveSettings(pod({}), defaultInjectOptions());
    expect(settings).toMatchObject({
      mode: 'native',
      tokenExpirationSeconds: 3600,
      tokenAudiences: ['chaperone.dev/controller'],
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      runAsUser: 65532,
      runAsGroup: 65532,
      providers: [],
      excludeContainers: [],
      noProxy: ['localhost', '127.0.0.1', '::1', '.svc', '.svc.cluster.local', '.cluster.local'],
    });
    expect(warnings).toEqual([]);
  });
});

describe('resolveSettings: valid overrides', () => {
  it.each([
    [{ 'chaperone.dev/sidecar-mode': 'container' }, { mode: 'container' }],
    [{ 'chaperone.dev/token-expiration-seconds': '600' }, { tokenExpirationSeconds: 600 }],
    [{ 'chaperone.dev/token-expiration-seconds': '86400' }, { tokenExpirationSeconds: 86400 }],
    [
      { 'chaperone.dev/token-audiences': 'sts.amazonaws.com,  api://AzureADTokenExchange ,' },
      { tokenAudiences: ['chaperone.dev/controller', 'sts.amazonaws.com', 'api://AzureADTokenExchange'] },
    ],
    [
      { 'chaperone.dev/proxy-cpu-request': '100m', 'chaperone.dev/proxy-cpu-limit': '0.5' },
      { resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '0.5', memory: '256Mi' } } },
    ],
    [
      { 'chaperone.dev/proxy-memory-limit': '1Gi' },
      { resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
    ],
    [
      { 'chaperone.dev/proxy-run-as-user': '1000', 'chaperone.dev/proxy-run-as-group': '3000' },
      { runAsUser: 1000, runAsGroup: 3000 },
    ],
    [
      { 'chaperone.dev/providers': 'openai, claude=anthropic, gw' },
      {
        providers: [
          { name: 'openai', type: 'openai' },
          { name: 'claude', type: 'anthropic' },
          { name: 'gw', type: 'generic' },
        ],
      },
    ],
    [{ 'chaperone.dev/providers': 'openai,openai' }, { providers: [{ name: 'openai', type: 'openai' }] }],
    [{ 'chaperone.dev/exclude-containers': 'app' }, { excludeContainers: ['app'] }],
  ])('%j', (annotations, expected) => {
    expect(resolveSettings(pod(annotations), defaultInjectOptions()).settings).toMatchObject(expected);
  });

  it("takes the sidecar resources from the controller's options; an annotation still wins", () => {
    const options = defaultInjectOptions({
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '512Mi' } },
    });
    const { settings } = resolveSettings(pod({ 'chaperone.dev/proxy-memory-limit': '1Gi' }), options);
    expect(settings.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
  });

  it('appends NO_PROXY entries from the options, then the annotation, under the cluster domain', () => {
    const { settings } = resolveSettings(
      pod({ 'chaperone.dev/no-proxy': '10.0.0.0/8, .corp.example' }),
      defaultInjectOptions({ clusterDomain: 'k8s.internal', noProxy: ['10.96.0.0/12'] }),
    );
    expect(settings.noProxy).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      '.svc',
      '.svc.k8s.internal',
      '.k8s.internal',
      '10.96.0.0/12',
      '10.0.0.0/8',
      '.corp.example',
    ]);
  });

  it('merges policy providers after the annotation; the policy type wins with a warning', () => {
    const { settings, warnings } = resolveSettings(pod({ 'chaperone.dev/providers': 'llm, openai' }), {
      ...defaultInjectOptions(),
      policyProviders: [
        { name: 'llm', type: 'azure-openai' },
        { name: 'bedrock', type: 'bedrock' },
      ],
    });
    expect(settings.providers).toEqual([
      { name: 'llm', type: 'azure-openai' },
      { name: 'openai', type: 'openai' },
      { name: 'bedrock', type: 'bedrock' },
    ]);
    expect(warnings).toEqual([
      'chaperone.dev/providers: provider "llm" is type "azure-openai" in its policy, not "generic"',
    ]);
  });

  it('warns about excluded containers the pod does not have', () => {
    const { warnings } = resolveSettings(
      pod({ 'chaperone.dev/exclude-containers': 'app,ghost' }),
      defaultInjectOptions(),
    );
    expect(warnings).toEqual(['chaperone.dev/exclude-containers: no container named "ghost" in this pod']);
  });
});

describe('resolveSettings: refused overrides name their annotation', () => {
  it.each([
    [
      { 'chaperone.dev/sidecar-mode': 'sidecar' },
      'chaperone.dev/sidecar-mode',
      /must be one of native, container/,
    ],
    [
      { 'chaperone.dev/token-expiration-seconds': '599' },
      'chaperone.dev/token-expiration-seconds',
      /from 600 to 86400/,
    ],
    [
      { 'chaperone.dev/token-expiration-seconds': '86401' },
      'chaperone.dev/token-expiration-seconds',
      /from 600/,
    ],
    [{ 'chaperone.dev/token-expiration-seconds': '1h' }, 'chaperone.dev/token-expiration-seconds', /"1h"/],
    [
      { 'chaperone.dev/token-audiences': 'a b' },
      'chaperone.dev/token-audiences',
      /"a b" is not a token audience/,
    ],
    [{ 'chaperone.dev/token-audiences': 'a,b,c,d,e,f,g,h,i' }, 'chaperone.dev/token-audiences', /at most 8/],
    [
      { 'chaperone.dev/proxy-cpu-limit': 'fast' },
      'chaperone.dev/proxy-cpu-limit',
      /not a positive Kubernetes quantity/,
    ],
    [{ 'chaperone.dev/proxy-cpu-request': '0' }, 'chaperone.dev/proxy-cpu-request', /positive/],
    [{ 'chaperone.dev/proxy-memory-request': '-1Mi' }, 'chaperone.dev/proxy-memory-request', /quantity/],
    [
      { 'chaperone.dev/proxy-memory-request': '512Mi' },
      'chaperone.dev/proxy-memory-request',
      /request 512Mi exceeds the memory limit 256Mi/,
    ],
    [
      { 'chaperone.dev/proxy-cpu-limit': '10m' },
      'chaperone.dev/proxy-cpu-limit',
      /cpu request 50m exceeds the cpu limit 10m/,
    ],
    [{ 'chaperone.dev/proxy-run-as-user': '0' }, 'chaperone.dev/proxy-run-as-user', /never runs as root/],
    [{ 'chaperone.dev/proxy-run-as-group': 'nobody' }, 'chaperone.dev/proxy-run-as-group', /"nobody"/],
    [{ 'chaperone.dev/providers': 'Open AI' }, 'chaperone.dev/providers', /not "name" or "name=type"/],
    [{ 'chaperone.dev/providers': 'a=b=c' }, 'chaperone.dev/providers', /not "name" or "name=type"/],
    [
      { 'chaperone.dev/providers': 'x=mistral' },
      'chaperone.dev/providers',
      /unknown provider type "mistral"/,
    ],
    [{ 'chaperone.dev/providers': 'x=openai,x=anthropic' }, 'chaperone.dev/providers', /named twice/],
    [
      { 'chaperone.dev/exclude-containers': 'App_1' },
      'chaperone.dev/exclude-containers',
      /not a container name/,
    ],
    [{ 'chaperone.dev/no-proxy': 'a b' }, 'chaperone.dev/no-proxy', /not a host, domain or CIDR/],
  ])('%j', (annotations, annotation, message) => {
    const err = refusal(annotations);
    expect(err.code).toBe(ERROR_CODES.INVALID_OVERRIDE);
    expect(err.annotation).toBe(annotation);
    expect(err.message.startsWith(`${annotation}: `)).toBe(true);
    expect(err.message).toMatch(message);
  });
});
