// The chaperone.dev/status annotation: what was injected, by which version, and a hash of it. It
// is derived from the desired injection only (not from what happened to be missing), so
// re-injecting an injected pod reproduces it exactly.
import { createHash } from 'node:crypto';
import type { V1Container, V1Volume } from '@kubernetes/client-node';
import type { SidecarMode } from '../../../api/src/injection.ts';
import type { EnvSetting } from './app-env.ts';
import type { InjectionSettings } from './settings.ts';

export interface InjectionStatus {
  version: string;
  mode: SidecarMode;
  image: string;
  /** Containers that received the proxy/provider environment. */
  containers: string[];
  providers: string[];
  tokenAudiences: string[];
  /** sha256 (first 16 hex digits) of the sidecar, the token volume and the app environment. */
  hash: string;
}

export interface InjectedParts {
  sidecar: V1Container;
  volume: V1Volume;
  appEnv: readonly EnvSetting[];
  containers: readonly string[];
}

export function buildStatus(settings: InjectionSettings, parts: InjectedParts): InjectionStatus {
  const hash = createHash('sha256')
    .update(
      JSON.stringify({
        sidecar: parts.sidecar,
        volume: parts.volume,
        env: parts.appEnv.map((s) => [s.names, s.value]),
        containers: parts.containers,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  return {
    version: settings.version,
    mode: settings.mode,
    image: settings.image,
    containers: [...parts.containers],
    providers: settings.providers.map((p) => `${p.name}=${p.type}`),
    tokenAudiences: [...settings.tokenAudiences],
    hash,
  };
}

export function serializeStatus(status: InjectionStatus): string {
  return JSON.stringify(status);
}

/** The parsed status annotation, or undefined when absent or not ours. */
export function parseStatus(value: string | undefined): InjectionStatus | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<InjectionStatus> | null;
    return typeof parsed?.hash === 'string' && typeof parsed.version === 'string'
      ? (parsed as InjectionStatus)
      : undefined;
  } catch {
    return undefined;
  }
}
