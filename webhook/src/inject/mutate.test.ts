import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ERROR_CODES, PortConflictError } from '../errors.ts';
import { inject, mutate } from './mutate.ts';
import { defaultInjectOptions } from './settings.ts';
import { parseStatus } from './status.ts';

const options = defaultInjectOptions({ version: '9.9.9', image: 'proxy:test' });

function pod(spec: Partial<V1Pod['spec']> = {}, annotations: Record<string, string> = {}): V1Pod {
  return {
    metadata: { name: 'p', annotations: { 'chaperone.dev/inject': 'true', ...annotations } },
    spec: { containers: [{ name: 'app', image: 'app:1' }], ...spec },
  };
}

const names = (list: V1Container[] | undefined): string[] => (list ?? []).map((c) => c.name);
const envNames = (c: V1Container | undefined): string[] => (c?.env ?? []).map((e) => e.name);

describe('mutate', () => {
  it('adds the sidecar as the first init container with restartPolicy Always and a /readyz startup probe', () => {
    const out = mutate(pod({ initContainers: [{ name: 'setup', image: 's:1' }] }), options);
    expect(names(out.spec?.initContainers)).toEqual(['chaperone-proxy', 'setup']);
    const sidecar = out.spec?.initContainers?.[0];
    expect(sidecar?.restartPolicy).toBe('Always');
    expect(sidecar?.image).toBe('proxy:test');
    expect(sidecar?.startupProbe?.httpGet).toEqual({
      path: '/readyz',
      port: 'chaperone-admin',
      scheme: 'HTTP',
    });
    expect(sidecar?.ports).toEqual([{ name: 'chaperone-admin', containerPort: 15020, protocol: 'TCP' }]);
    expect(names(out.spec?.containers)).toEqual(['app']);
  });

  it('hardens the sidecar', () => {
    const sidecar = mutate(pod(), options).spec?.initContainers?.[0];
    expect(sidecar?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('mounts the token volume into the sidecar only', () => {
    const out = mutate(pod({ initContainers: [{ name: 'setup' }] }), options);
    const mounting = [...(out.spec?.initContainers ?? []), ...(out.spec?.containers ?? [])]
      .filter((c) => c.volumeMounts?.some((m) => m.name === 'chaperone-token'))
      .map((c) => c.name);
    expect(mounting).toEqual(['chaperone-proxy']);
    expect(out.spec?.volumes?.filter((v) => v.name === 'chaperone-token')).toHaveLength(1);
  });

  it('in container mode puts the sidecar first among containers and leaves init containers alone', () => {
    const out = mutate(pod({ initContainers: [{ name: 'migrate' }] }), {
      ...options,
      sidecarMode: 'container',
    });
    expect(names(out.spec?.initContainers)).toEqual(['migrate']);
    expect(envNames(out.spec?.initContainers?.[0])).toEqual([]);
    expect(names(out.spec?.containers)).toEqual(['chaperone-proxy', 'app']);
    expect(out.spec?.containers[0]?.restartPolicy).toBeUndefined();
    expect(envNames(out.spec?.containers[1])).toContain('HTTPS_PROXY');
  });

  it('gives the proxy environment to app and init containers, not to mesh or excluded ones', () => {
    const out = mutate(
      pod(
        {
          initContainers: [{ name: 'linkerd-init' }, { name: 'setup' }],
          containers: [{ name: 'app' }, { name: 'istio-validation' }, { name: 'exporter' }],
        },
        { 'chaperone.dev/exclude-containers': 'exporter' },
      ),
      options,
    );
    const withProxy = [...(out.spec?.initContainers ?? []), ...(out.spec?.containers ?? [])]
      .filter((c) => envNames(c).includes('HTTPS_PROXY'))
      .map((c) => c.name);
    expect(withProxy).toEqual(['setup', 'app']);
    expect(parseStatus(out.metadata?.annotations?.['chaperone.dev/status'])?.containers).toEqual([
      'setup',
      'app',
    ]);
  });

  it('is pure: the input pod is not modified', () => {
    const input = pod({ initContainers: [{ name: 'setup' }], volumes: [{ name: 'v', emptyDir: {} }] });
    const copy = structuredClone(input);
    mutate(input, options);
    expect(input).toEqual(copy);
  });

  it('is idempotent and records the same status hash each time', () => {
    const once = inject(pod({}, { 'chaperone.dev/providers': 'openai' }), options);
    const twice = inject(once.pod, options);
    expect(twice.pod).toStrictEqual(once.pod);
    expect(twice.status.hash).toBe(once.status.hash);
    expect(twice.warnings).toEqual([]);
  });

  it('records version, mode, providers and a hash that changes with what is injected', () => {
    const a = inject(pod({}, { 'chaperone.dev/providers': 'openai' }), options).status;
    const b = inject(pod({}, { 'chaperone.dev/providers': 'anthropic' }), options).status;
    expect(a).toMatchObject({
      version: '9.9.9',
      mode: 'native',
      image: 'proxy:test',
      providers: ['openai=openai'],
      tokenAudiences: ['chaperone.dev/controller'],
    });
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.hash).not.toBe(b.hash);
  });

  it('replaces a pre-existing chaperone-proxy container wherever it is', () => {
    const out = mutate(
      pod({ containers: [{ name: 'chaperone-proxy', image: 'evil:1' }, { name: 'app' }] }),
      options,
    );
    expect(names(out.spec?.containers)).toEqual(['app']);
    expect(out.spec?.initContainers?.[0]?.image).toBe('proxy:test');
  });

  it.each([
    [
      'a container port',
      { containers: [{ name: 'app', ports: [{ containerPort: 15020 }] }] },
      /"app" uses port\(s\) 15020/,
    ],
    [
      'istio-proxy',
      { containers: [{ name: 'app' }, { name: 'istio-proxy' }] },
      /"istio-proxy" uses port\(s\) 15000, 15001, 15020/,
    ],
  ])('refuses a port conflict with %s', (_title, spec, message) => {
    let caught: unknown;
    try {
      mutate(pod(spec), options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PortConflictError);
    expect((caught as PortConflictError).code).toBe(ERROR_CODES.PORT_CONFLICT);
    expect((caught as PortConflictError).message).toMatch(message);
  });
});
