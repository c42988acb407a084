// An independent SigV4 verifier for the Bedrock mock, written from AWS's specification ("Create a
// signed AWS API request") with node:crypto only — deliberately not the @smithy signer the sidecar
// uses, so a bug there cannot be mirrored here. It recomputes the signature from the request as the
// server received it: raw path and query, the received header values, the received body bytes.
// Checked against AWS's published test vector (sigv4-verify.test.ts).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface ReceivedRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface IssuedCredential {
  secretAccessKey: string;
  /** Required in `x-amz-security-token` (and signed) when set. */
  sessionToken?: string;
  expiresAt?: number;
}

export interface VerifyOptions {
  region: string;
  service: string;
  lookup: (accessKeyId: string) => IssuedCredential | undefined;
  now?: number;
  /** Largest difference between x-amz-date and now (AWS allows 5 minutes). */
  maxSkewMs?: number;
}

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding of everything but the unreserved characters, as SigV4 requires. */
export function uriEncode(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function canonicalUri(path: string): string {
  // Services other than S3: every segment of the path as received is encoded once more.
  return path.split('/').map(uriEncode).join('/') || '/';
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    const name = decodeURIComponent(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
    return [uriEncode(name), uriEncode(value)] as const;
  });
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/ +/g, ' ');
}

export function verifySigV4(request: ReceivedRequest, options: VerifyOptions): VerifyResult {
  const fail = (reason: string): VerifyResult => ({ ok: false, reason });
  const auth = headerValue(request.headers, 'authorization') ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) return fail('no SigV4 Authorization header');
  const [, accessKeyId, date, region, service, signedList, signature] = match as unknown as string[];
  if (region !== options.region || service !== options.service)
    return fail(`credential scope ${region}/${service} is not ${options.region}/${options.service}`);
  const credential = options.lookup(accessKeyId!);
  if (!credential) return fail(`unknown access key ${accessKeyId}`);
  const now = options.now ?? Date.now();
  if (credential.expiresAt !== undefined && now >= credential.expiresAt) return fail('expired credentials');
  const signed = signedList!.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return fail('host and x-amz-date must be signed');
  const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!when || !amzDate.startsWith(date!)) return fail('x-amz-date is missing or outside the scope date');
  const at = Date.UTC(+when[1]!, +when[2]! - 1, +when[3]!, +when[4]!, +when[5]!, +when[6]!);
  if (Math.abs(now - at) > (options.maxSkewMs ?? 300_000)) return fail('x-amz-date is too far from now');
  if (credential.sessionToken !== undefined) {
    if (!signed.includes('x-amz-security-token')) return fail('x-amz-security-token must be signed');
    if (headerValue(request.headers, 'x-amz-security-token') !== credential.sessionToken)
      return fail('x-amz-security-token does not belong to the access key');
  }
  const bodyHash = sha256(request.body);
  const declared = headerValue(request.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== bodyHash && declared !== 'UNSIGNED-PAYLOAD')
    return fail('x-amz-content-sha256 does not match the body');
  const queryAt = request.url.indexOf('?');
  const path = queryAt < 0 ? request.url : request.url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : request.url.slice(queryAt + 1);
  const headers = signed.map((name) => `${name}:${headerValue(request.headers, name) ?? ''}\n`).join('');
  const canonical = [
    request.method,
    canonicalUri(path),
    canonicalQuery(query),
    headers,
    signedList,
    declared ?? bodyHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${credential.secretAccessKey}`, date!), region), service),
    'aws4_request',
  );
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = Buffer.from(signature!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return fail('signature does not match');
  return { ok: true, accessKeyId: accessKeyId! };
}
