// The projected service-account token volume: one token per audience, mounted into the sidecar
// only. The app never sees a token.
import { createHash } from 'node:crypto';
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { CONTROLLER_TOKEN_FILE, TOKEN_MOUNT_PATH, TOKEN_VOLUME_NAME } from '../../../api/src/injection.ts';
import { CONTROLLER_TOKEN_AUDIENCE } from '../../../api/src/names.ts';
import type { InjectionSettings } from './settings.ts';

/** The file name (under TOKEN_MOUNT_PATH) of the token for `audience`; stable across pods. */
export function tokenFileName(audience: string): string {
  if (audience === CONTROLLER_TOKEN_AUDIENCE) return CONTROLLER_TOKEN_FILE;
  const readable = audience
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 48);
  const digest = createHash('sha256').update(audience).digest('hex').slice(0, 8);
  return `${readable || 'audience'}-${digest}`;
}

/** Audience → absolute token path, in the settings' audience order (the sidecar's CHAPERONE_TOKEN_FILES). */
export function tokenFiles(settings: InjectionSettings): Record<string, string> {
  return Object.fromEntries(
    settings.tokenAudiences.map((aud) => [aud, `${TOKEN_MOUNT_PATH}/${tokenFileName(aud)}`]),
  );
}

export function buildTokenVolume(settings: InjectionSettings): V1Volume {
  return {
    name: TOKEN_VOLUME_NAME,
    projected: {
      // Spelled out although it is the apiserver's default, so the stored pod equals mutate()'s output.
      defaultMode: 0o644,
      sources: settings.tokenAudiences.map((audience) => ({
        serviceAccountToken: {
          audience,
          expirationSeconds: settings.tokenExpirationSeconds,
          path: tokenFileName(audience),
        },
      })),
    },
  };
}

export function tokenVolumeMount(): V1VolumeMount {
  return { name: TOKEN_VOLUME_NAME, mountPath: TOKEN_MOUNT_PATH, readOnly: true };
}
