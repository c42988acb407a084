// Where the credential a provider receives comes from. The app never holds one: the sidecar removes
// whatever auth the app sent and adds the provider's, in the header that provider type expects.
// Secret keys here; workload identity (token exchange, SigV4, identity headers) in
// identity-credentials.ts, behind the same interface.
import { RefusalError } from '../../../api/src/refusals.ts';
import type { CompiledPolicy, CompiledProvider } from '../policy/compile.ts';
import { CREDENTIAL_HEADERS } from '../policy/defaults.ts';

export type CredentialHeaders = Readonly<Record<string, string>>;

/** The request as it will leave: what a signature (SigV4) covers and what traffic tags name. */
export interface OutgoingRequest {
  method: string;
  /** `https://host:port`. */
  origin: string;
  /** Path and query exactly as sent. */
  path: string;
  /** The body as sent (after redaction). */
  body: Buffer | undefined;
  /** The audit record's request id. */
  requestId: string;
}

export interface CredentialSource {
  /** Headers to add for `provider`; throws RefusalError(IDENTITY_UNAVAILABLE) when there are none. */
  headersFor(
    provider: CompiledProvider,
    request: OutgoingRequest,
  ): CredentialHeaders | Promise<CredentialHeaders>;
  /** Every secret value in use, so responses and logs can be checked never to carry one. */
  secretValues(): readonly string[];
}

/** Builds the credential header for a provider type from a key. */
export function credentialHeaders(provider: CompiledProvider, key: string): CredentialHeaders {
  const header = CREDENTIAL_HEADERS[provider.type];
  return { [header.name]: header.bearer ? `Bearer ${key}` : key };
}

/**
 * API keys read from Secret files (`<dir>/<name>/<key>`) or the controller's bundle, resolved when
 * the policy is loaded so the request path never touches the filesystem. Workload-identity
 * providers are refused here: IdentityCredentials serves them when the sidecar has projected tokens.
 */
export class StaticCredentials implements CredentialSource {
  readonly #headers: Map<string, CredentialHeaders>;
  readonly #secrets: string[];

  constructor(policy: CompiledPolicy, keys: ReadonlyMap<string, string>) {
    this.#headers = new Map();
    this.#secrets = [];
    for (const provider of policy.providers) {
      const key = keys.get(provider.name);
      if (key === undefined) continue;
      this.#headers.set(provider.name, credentialHeaders(provider, key));
      this.#secrets.push(key);
    }
  }

  headersFor(provider: CompiledProvider, _request?: OutgoingRequest): CredentialHeaders {
    const headers = this.#headers.get(provider.name);
    if (headers) return headers;
    if (provider.credentials.kind === 'workload-identity')
      throw new RefusalError(
        'IDENTITY_UNAVAILABLE',
        `provider ${provider.name} uses workload identity (${provider.credentials.exchange}), but this sidecar has no projected service-account tokens (run it in an injected pod, or pass --identity-token AUDIENCE=FILE)`,
        { provider: provider.name, rule: `${provider.rule}.credentials.workloadIdentity` },
      );
    throw new RefusalError('IDENTITY_UNAVAILABLE', `no credential is loaded for provider ${provider.name}`, {
      provider: provider.name,
      rule: `${provider.rule}.credentials.secretRef`,
    });
  }

  secretValues(): readonly string[] {
    return this.#secrets;
  }
}
