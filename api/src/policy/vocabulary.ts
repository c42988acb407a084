// The policy's enumerations as plain values, apart from the TypeBox schema that uses them: the
// sidecar reads these on its hot path and must not load the schema builder (~18 MB resident) to do so.

export const MODES = ['Enforce', 'Report'] as const;
export const DETECTORS = [
  'email',
  'phone',
  'credit-card',
  'us-ssn',
  'iban',
  'secret',
  'jwt',
  'ip-address',
] as const;
/** On unless a policy lists its own: every detector but ip-address, whose matches are rarely sensitive. */
export const DEFAULT_DETECTORS = DETECTORS.filter((d) => d !== 'ip-address');
export const BOUNDARY_ACTIONS = ['Redact', 'Block', 'Report'] as const;
export const GUARD_ACTIONS = ['Off', 'Report', 'Block'] as const;
export const AUDIT_CONTENT = ['Metadata', 'Redacted', 'Full'] as const;
export const MAX_PROVIDERS = 16;

export const PROVIDER_TYPES = [
  'openai',
  'anthropic',
  'azure-openai',
  'bedrock',
  'vertex',
  'generic',
] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/** Provider types that speak the OpenAI API and can therefore stand in for each other. */
export const OPENAI_FAMILY: readonly ProviderType[] = ['openai', 'azure-openai', 'generic'];

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export const WORKLOAD_IDENTITY_EXCHANGES = ['azure', 'aws', 'gcp', 'oauth2-token-exchange', 'none'] as const;

/** Default header that carries an identity assertion to a generic provider. */
export const DEFAULT_ASSERTION_HEADER = 'x-chaperone-identity';
