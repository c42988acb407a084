// What an exchange turns the projected token into, and what it needs to do so.
import type { CompiledProvider, WorkloadIdentitySpec } from '../../policy/compile.ts';
import type { TokenEndpoints } from '../token-endpoint.ts';

export interface BearerCredential {
  kind: 'bearer';
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface AwsCredential {
  kind: 'aws';
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

export type ExchangedCredential = BearerCredential | AwsCredential;

export interface ExchangeInput {
  provider: CompiledProvider;
  spec: WorkloadIdentitySpec;
  /** The projected service-account token for spec.audience. */
  subjectToken: string;
  endpoints: TokenEndpoints;
  now: () => number;
  /** Names the session where a token service records one (AWS RoleSessionName): the pod. */
  sessionName: string;
}

export type Exchange = (input: ExchangeInput) => Promise<ExchangedCredential>;

/** Every secret string a credential holds (the proxy scrubs them from what reaches the app). */
export function credentialSecrets(credential: ExchangedCredential): string[] {
  return credential.kind === 'bearer'
    ? [credential.token]
    : [credential.secretAccessKey, credential.sessionToken];
}
