// mutate(pod, options) → pod: builds the desired pod from the original. Pure and convergent:
// Chaperone's own pieces (the chaperone-proxy container, the chaperone-token volume, the status
// annotation) are replaced by their desired form wherever they are, the app environment is only
// added where missing, so mutate(mutate(p)) equals mutate(p).
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import {
  INFRASTRUCTURE_CONTAINERS,
  INJECTION_ANNOTATIONS,
  SIDECAR_CONTAINER_NAME,
  TOKEN_VOLUME_NAME,
} from '../../../api/src/injection.ts';
import { applyAppEnv, desiredAppEnv } from './app-env.ts';
import { assertNoPortConflicts } from './port-conflicts.ts';
import { resolveSettings, type MutateOptions } from './settings.ts';
import { buildSidecarContainer } from './sidecar.ts';
import { buildStatus, serializeStatus, type InjectionStatus } from './status.ts';
import { buildTokenVolume } from './token-volume.ts';

export interface InjectionResult {
  pod: V1Pod;
  status: InjectionStatus;
  /** Non-fatal findings for the user (returned as admission warnings). */
  warnings: string[];
}

const INFRASTRUCTURE = new Set<string>(INFRASTRUCTURE_CONTAINERS);

/**
 * Throws InvalidOverrideError for a bad chaperone.dev/* annotation and PortConflictError when
 * another container binds the sidecar's ports.
 */
export function inject(original: V1Pod, options: MutateOptions): InjectionResult {
  const { settings, warnings } = resolveSettings(original, options);
  assertNoPortConflicts(original);

  const pod = structuredClone(original);
  const spec = (pod.spec ??= { containers: [] });
  const sidecar = buildSidecarContainer(settings);
  const volume = buildTokenVolume(settings);

  // The sidecar goes first: as a native sidecar it then starts (and is ready) before every other
  // init container, so they too reach providers only through it.
  const initContainers = (spec.initContainers ?? []).filter((c) => c.name !== SIDECAR_CONTAINER_NAME);
  const containers = spec.containers.filter((c) => c.name !== SIDECAR_CONTAINER_NAME);
  if (settings.mode === 'native') initContainers.unshift(sidecar);
  else containers.unshift(sidecar);

  const appEnv = desiredAppEnv(settings);
  const excluded = new Set(settings.excludeContainers);
  const targets: string[] = [];
  const withEnv = (list: V1Container[], eligible: boolean): V1Container[] =>
    list.map((container) => {
      if (
        !eligible ||
        container === sidecar ||
        INFRASTRUCTURE.has(container.name) ||
        excluded.has(container.name)
      ) {
        return container;
      }
      targets.push(container.name);
      const result = applyAppEnv(container, appEnv);
      warnings.push(...result.warnings);
      return result.container;
    });
  // Without native sidecars, init containers run before the proxy exists: they get no proxy env.
  const newInit = withEnv(initContainers, settings.mode === 'native');
  const newContainers = withEnv(containers, true);

  if (newInit.length > 0) spec.initContainers = newInit;
  else delete spec.initContainers;
  spec.containers = newContainers;
  spec.volumes = upsertVolume(spec.volumes ?? [], volume);

  const status = buildStatus(settings, { sidecar, volume, appEnv, containers: targets });
  const metadata = (pod.metadata ??= {});
  metadata.annotations = { ...metadata.annotations, [INJECTION_ANNOTATIONS.status]: serializeStatus(status) };
  return { pod, status, warnings };
}

export function mutate(pod: V1Pod, options: MutateOptions): V1Pod {
  return inject(pod, options).pod;
}

function upsertVolume(volumes: readonly V1Volume[], volume: V1Volume): V1Volume[] {
  const index = volumes.findIndex((v) => v.name === TOKEN_VOLUME_NAME);
  if (index === -1) return [...volumes, volume];
  return volumes
    .map((v, i) => (i === index ? volume : v))
    .filter((v, i) => i === index || v.name !== TOKEN_VOLUME_NAME);
}
