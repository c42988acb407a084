// A bundle from chaperone-controller → the policy this sidecar enforces. The controller already
// validated every policy (defaults, schema, CEL), so the sidecar only compiles. When several policies
// select the pod, their providers are merged into one effective policy: a policy's kill switch
// applies to its own providers, and the effective mode is Report only when every policy reports
// (the stricter reading wins). Provider names must be unique across them; a later duplicate (by
// policy name) is left out and reported.
import { secretKey, type PolicyBundle } from '../../../api/src/bundle.ts';
import { API_VERSION, POLICY } from '../../../api/src/names.ts';
import type { AIProviderPolicy, ProviderSpec } from '../../../api/src/policy/index.ts';
import { StaticCredentials } from '../credentials/source.ts';
import { compileGuards } from '../guards/policy.ts';
import { compilePolicy } from '../policy/compile.ts';
import type { LoadedPolicy } from '../proxy/context.ts';

export type BundleResult =
  { ok: true; loaded: LoadedPolicy; conflicts: string[] } | { ok: false; message: string };

export function loadBundle(bundle: PolicyBundle): BundleResult {
  const providers: ProviderSpec[] = [];
  const seen = new Map<string, string>();
  const conflicts: string[] = [];
  for (const policy of bundle.policies) {
    for (const provider of policy.spec.providers) {
      const owner = seen.get(provider.name);
      if (owner !== undefined) {
        conflicts.push(
          `provider ${provider.name} of policy ${policy.name} is already declared by policy ${owner}`,
        );
        continue;
      }
      seen.set(provider.name, policy.name);
      providers.push({ ...provider, killSwitch: provider.killSwitch || policy.spec.killSwitch });
    }
  }
  const [first] = bundle.policies;
  const manifest: AIProviderPolicy = {
    apiVersion: API_VERSION,
    kind: POLICY.kind,
    metadata: {
      name: bundle.policies.map((p) => p.name).join('+') || '(none)',
      namespace: bundle.namespace,
      ...(bundle.policies.length === 1 && { generation: first!.generation }),
    },
    spec: {
      ...(first?.spec ?? {
        podSelector: {},
        dataBoundary: { detectors: [], action: 'Redact', restoreInResponse: false },
        guards: {
          promptInjection: { action: 'Off', threshold: 50 },
          tools: { action: 'Off' },
          costBurst: { action: 'Off' },
        },
        audit: { content: 'Metadata' },
      }),
      mode: bundle.policies.every((p) => p.spec.mode === 'Report') && first ? 'Report' : 'Enforce',
      killSwitch: false,
      providers,
    },
  };
  const compiled = compilePolicy(manifest);
  if (!compiled.ok) {
    return { ok: false, message: compiled.errors.map((e) => `${e.path}: ${e.message}`).join('\n') };
  }
  const keys = new Map<string, string>();
  for (const provider of providers) {
    const ref = provider.credentials.secretRef;
    const value = ref ? bundle.secrets[secretKey(ref.name, ref.key)] : undefined;
    if (value !== undefined) keys.set(provider.name, value);
  }
  return {
    ok: true,
    loaded: {
      policy: compiled.policy,
      credentials: new StaticCredentials(compiled.policy, keys),
      guards: compileGuards(manifest.spec),
    },
    conflicts,
  };
}
