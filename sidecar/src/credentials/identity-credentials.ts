// Credentials from workload identity, layered over the Secret keys of a loaded policy: a
// workload-identity provider gets the exchanged token (`Authorization: Bearer`), SigV4 headers
// (aws), or the projected token itself (exchange none); a generic provider with `identity` also
// gets its identity assertion and traffic tags. Providers with Secret keys and no identity headers
// keep the synchronous path of the keys. Any failure refuses the request with IDENTITY_UNAVAILABLE.
import { DEFAULT_ASSERTION_HEADER } from '../../../api/src/policy/vocabulary.ts';
import type { CompiledPolicy, CompiledProvider } from '../policy/compile.ts';
import { identityRefusal } from './errors.ts';
import type { CredentialHeaders, CredentialSource, OutgoingRequest } from './source.ts';
import type { WorkloadIdentity } from './workload-identity.ts';

/** The workload the traffic tags name (from the downward API). */
export interface WorkloadInfo {
  namespace?: string | undefined;
  serviceAccount?: string | undefined;
}

/** Headers of the traffic tags: the `x-chaperone-` prefix is removed from every app request. */
export const TRAFFIC_TAG_HEADERS = {
  namespace: 'x-chaperone-namespace',
  serviceAccount: 'x-chaperone-service-account',
  requestId: 'x-chaperone-request-id',
} as const;

export class IdentityCredentials implements CredentialSource {
  readonly #keys: CredentialSource;
  readonly #identity: WorkloadIdentity;
  readonly #workload: WorkloadInfo;

  constructor(keys: CredentialSource, identity: WorkloadIdentity, workload: WorkloadInfo) {
    this.#keys = keys;
    this.#identity = identity;
    this.#workload = workload;
  }

  headersFor(
    provider: CompiledProvider,
    request: OutgoingRequest,
  ): CredentialHeaders | Promise<CredentialHeaders> {
    if (provider.credentials.kind === 'secret' && provider.identity === undefined)
      return this.#keys.headersFor(provider, request);
    return this.#headers(provider, request);
  }

  secretValues(): readonly string[] {
    return [...this.#keys.secretValues(), ...this.#identity.secretValues()];
  }

  async #headers(provider: CompiledProvider, request: OutgoingRequest): Promise<CredentialHeaders> {
    const headers: Record<string, string> = {
      ...(provider.credentials.kind === 'secret'
        ? await this.#keys.headersFor(provider, request)
        : await this.#workloadCredential(provider, request)),
    };
    const identity = provider.identity;
    if (identity?.assertion) {
      const { header, audience } = identity.assertion;
      const name = (header || DEFAULT_ASSERTION_HEADER).toLowerCase();
      headers[name] =
        audience !== undefined
          ? await this.#identity.projectedToken(audience).catch((err: unknown) => {
              throw identityRefusal(err, provider, `${provider.rule}.identity.assertion`);
            })
          : await this.#identityToken(provider);
    }
    if (identity?.trafficTags) {
      if (this.#workload.namespace) headers[TRAFFIC_TAG_HEADERS.namespace] = this.#workload.namespace;
      if (this.#workload.serviceAccount)
        headers[TRAFFIC_TAG_HEADERS.serviceAccount] = this.#workload.serviceAccount;
      headers[TRAFFIC_TAG_HEADERS.requestId] = request.requestId;
    }
    return headers;
  }

  /** The token of the provider's workload identity: the exchanged one, or the projected one (none). */
  async #identityToken(provider: CompiledProvider): Promise<string> {
    const spec = provider.credentials;
    const rule = `${provider.rule}.credentials.workloadIdentity`;
    if (spec.kind !== 'workload-identity') throw identityRefusal(undefined, provider, rule);
    try {
      if (spec.exchange === 'none') return await this.#identity.projectedToken(spec.audience);
      const credential = await this.#identity.credential(provider, spec);
      if (credential.kind !== 'bearer') throw identityRefusal(undefined, provider, rule);
      return credential.token;
    } catch (err) {
      throw identityRefusal(err, provider, rule);
    }
  }

  async #workloadCredential(
    provider: CompiledProvider,
    request: OutgoingRequest,
  ): Promise<CredentialHeaders> {
    const spec = provider.credentials;
    const rule = `${provider.rule}.credentials.workloadIdentity`;
    if (spec.kind !== 'workload-identity') throw identityRefusal(undefined, provider, rule);
    // Identity tokens are OAuth bearer tokens whatever header the provider's API keys use.
    if (spec.exchange !== 'aws') return { authorization: `Bearer ${await this.#identityToken(provider)}` };
    try {
      const credential = await this.#identity.credential(provider, spec);
      if (credential.kind !== 'aws') throw identityRefusal(undefined, provider, rule);
      // The signer is loaded with the first Bedrock request (see workload-identity.ts on memory).
      const { signSigV4 } = await import('./sigv4.ts');
      return await signSigV4(request, credential, spec.region ?? '');
    } catch (err) {
      throw identityRefusal(err, provider, rule);
    }
  }
}

/** Layers workload identity over a loaded policy's keys (the store does this on every load). */
export function withWorkloadIdentity<T extends { policy: CompiledPolicy; credentials: CredentialSource }>(
  loaded: T,
  identity: WorkloadIdentity | undefined,
  workload: WorkloadInfo,
): T {
  if (!identity) return loaded;
  return { ...loaded, credentials: new IdentityCredentials(loaded.credentials, identity, workload) };
}
