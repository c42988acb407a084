// What a provider allows when its policy leaves a list out. Written down in docs/sidecar.md.
import type { ProviderType } from '../../../api/src/policy/index.ts';

/**
 * The standard inference API paths of each provider type, relative to the endpoint's own path.
 * Deliberately absent: file uploads, batches, fine-tuning, assistants/threads, vector stores and
 * admin APIs — ways to move data or change state that a policy must name explicitly.
 */
export const DEFAULT_PATHS: Readonly<Record<ProviderType, readonly string[]>> = {
  openai: [
    '/v1/chat/completions',
    '/v1/completions',
    '/v1/responses',
    '/v1/responses/*',
    '/v1/embeddings',
    '/v1/moderations',
    '/v1/models',
    '/v1/models/*',
    '/v1/audio/speech',
    '/v1/audio/transcriptions',
    '/v1/audio/translations',
    '/v1/images/generations',
  ],
  anthropic: ['/v1/messages', '/v1/messages/count_tokens', '/v1/models', '/v1/models/*'],
  'azure-openai': ['/openai/deployments/*', '/openai/v1/*'],
  bedrock: ['/model/*'],
  vertex: ['/v1/projects/*', '/v1beta1/projects/*'],
  // An OpenAI-compatible or internal gateway: anything under the endpoint's path.
  generic: ['/*'],
};

/** The header each provider type expects its API key in (secretRef credentials). */
export const CREDENTIAL_HEADERS: Readonly<Record<ProviderType, { name: string; bearer: boolean }>> = {
  openai: { name: 'authorization', bearer: true },
  anthropic: { name: 'x-api-key', bearer: false },
  'azure-openai': { name: 'api-key', bearer: false },
  bedrock: { name: 'authorization', bearer: true },
  vertex: { name: 'x-goog-api-key', bearer: false },
  generic: { name: 'authorization', bearer: true },
};

/**
 * Request headers that carry the app's own credentials (or cookies): removed before the request
 * leaves, whatever the provider type, so only the sidecar's credential is ever sent.
 */
export const APP_CREDENTIAL_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'x-amz-security-token',
  'cookie',
];

/** OpenTelemetry GenAI `gen_ai.system` value for each provider type. */
export const GEN_AI_SYSTEM: Readonly<Record<ProviderType, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  'azure-openai': 'az.ai.openai',
  bedrock: 'aws.bedrock',
  vertex: 'gcp.vertex_ai',
  generic: 'openai',
};
