// Header hygiene both ways: hop-by-hop headers never cross the proxy, the app's credentials never
// leave, and a response header that would echo a secret back to the app is dropped.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { APP_CREDENTIAL_HEADERS } from '../policy/defaults.ts';
import type { CredentialHeaders } from '../credentials/source.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  'expect',
  'http2-settings',
]);
const REMOVED_FROM_REQUESTS = new Set([...HOP_BY_HOP, ...APP_CREDENTIAL_HEADERS]);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

/** The app's headers minus hop-by-hop and credential headers, plus the provider's credential. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  credential: CredentialHeaders | undefined,
  extra?: Readonly<Record<string, string>>,
): Record<string, string | string[]> {
  const dropped = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (REMOVED_FROM_REQUESTS.has(name) || name.startsWith('x-chaperone-')) continue;
    if (dropped.length > 0 && dropped.includes(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  if (credential) Object.assign(out, credential);
  if (extra) Object.assign(out, extra);
  return out;
}

/** The provider's response headers as the app may see them. */
export function clientResponseHeaders(
  upstream: IncomingHttpHeaders,
  secrets: readonly string[],
): OutgoingHttpHeaders {
  const dropped = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) && name !== 'content-length') continue;
    if (dropped.length > 0 && dropped.includes(name)) continue;
    const value = upstream[name];
    if (value === undefined) continue;
    if (secrets.length > 0 && carriesSecret(value, secrets)) continue;
    out[name] = value;
  }
  return out;
}

function carriesSecret(value: string | string[], secrets: readonly string[]): boolean {
  const text = Array.isArray(value) ? value.join('\n') : value;
  return secrets.some((secret) => text.includes(secret));
}

/** Replaces every occurrence of a secret in a buffered (error) body. */
export function scrubSecrets(body: Buffer, secrets: readonly string[]): Buffer {
  if (secrets.length === 0) return body;
  let text: string | undefined;
  for (const secret of secrets) {
    if (body.includes(secret)) {
      text ??= body.toString('utf8');
      text = text.split(secret).join('[redacted]');
    }
  }
  return text === undefined ? body : Buffer.from(text, 'utf8');
}
