// The environment app containers get: HTTP(S)_PROXY to the sidecar's forward proxy, a NO_PROXY
// that keeps cluster-local traffic direct, SDK base URLs per provider and placeholder API keys.
// A variable the user already set (in either letter case for the proxy pair) is never touched.
import type { V1Container, V1EnvVar } from '@kubernetes/client-node';
import {
  FORWARD_PROXY_URL,
  PLACEHOLDER_API_KEY,
  PROVIDER_SDK_ENV,
  PROXY_ENV,
  genericBaseUrlEnv,
  providerEndpoint,
} from '../../../api/src/injection.ts';
import type { InjectionSettings, ProviderRef } from './settings.ts';

/** One setting: names that mean the same thing (set together, or left alone together) and a value. */
export interface EnvSetting {
  names: readonly string[];
  value: string;
  /** Warn when the user's value differs (the app may then bypass the sidecar). */
  warnIfUserSet: boolean;
}

/** The SDK variables for the first provider of each known type; CHAPERONE_<NAME>_BASE_URL for the rest. */
export function providerEnv(providers: readonly ProviderRef[]): EnvSetting[] {
  const settings: EnvSetting[] = [];
  const claimedTypes = new Set<string>();
  for (const provider of providers) {
    const sdk = PROVIDER_SDK_ENV[provider.type];
    if (sdk && !claimedTypes.has(provider.type)) {
      claimedTypes.add(provider.type);
      settings.push(
        {
          names: [sdk.baseUrl],
          value: providerEndpoint(provider.name, sdk.baseUrlSuffix),
          warnIfUserSet: true,
        },
        { names: [sdk.apiKey], value: PLACEHOLDER_API_KEY, warnIfUserSet: false },
      );
    } else {
      settings.push({
        names: [genericBaseUrlEnv(provider.name)],
        value: providerEndpoint(provider.name),
        warnIfUserSet: true,
      });
    }
  }
  return settings;
}

export function desiredAppEnv(settings: InjectionSettings): EnvSetting[] {
  return [
    { names: PROXY_ENV.http, value: FORWARD_PROXY_URL, warnIfUserSet: true },
    { names: PROXY_ENV.https, value: FORWARD_PROXY_URL, warnIfUserSet: true },
    { names: PROXY_ENV.noProxy, value: settings.noProxy.join(','), warnIfUserSet: true },
    ...providerEnv(settings.providers),
  ];
}

export interface AppEnvResult {
  container: V1Container;
  warnings: string[];
}

/** Appends the settings the container does not set yet. Returns a new container. */
export function applyAppEnv(container: V1Container, desired: readonly EnvSetting[]): AppEnvResult {
  const existing = new Map((container.env ?? []).map((e) => [e.name, e]));
  const added: V1EnvVar[] = [];
  const warnings: string[] = [];
  for (const setting of desired) {
    const userSet = setting.names.map((n) => existing.get(n)).find((e) => e !== undefined);
    if (userSet) {
      if (setting.warnIfUserSet && (userSet.value !== setting.value || userSet.valueFrom)) {
        warnings.push(
          `container ${JSON.stringify(container.name)} sets ${userSet.name} itself; Chaperone left it as is`,
        );
      }
      continue;
    }
    for (const name of setting.names) added.push({ name, value: setting.value });
  }
  if (added.length === 0) return { container, warnings };
  return { container: { ...container, env: [...(container.env ?? []), ...added] }, warnings };
}
