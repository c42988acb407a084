// Reads the server name (SNI) from the first bytes a client sends through a CONNECT tunnel: a TLS
// ClientHello, possibly split over several records and TCP segments. Nothing is decrypted; the
// sidecar only compares the name the client asks the server for with the host it was allowed.

export type ClientHello =
  | { state: 'incomplete' }
  | { state: 'not-tls' }
  | { state: 'malformed'; reason: string }
  | { state: 'complete'; sni: string | null };

/** A ClientHello larger than this is refused (post-quantum key shares stay well below it). */
export const MAX_CLIENT_HELLO_BYTES = 65_536;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME = 0x0000;

/** Parses what has arrived so far; call again with more bytes while `incomplete`. */
export function parseClientHello(data: Buffer): ClientHello {
  if (data.length === 0) return { state: 'incomplete' };
  if (data[0] !== HANDSHAKE) return { state: 'not-tls' };
  // Reassemble the handshake message from consecutive handshake records.
  const fragments: Buffer[] = [];
  let offset = 0;
  let have = 0;
  let need = -1;
  while (offset + 5 <= data.length) {
    if (data[offset] !== HANDSHAKE)
      return { state: 'malformed', reason: 'a non-handshake record interleaved' };
    if (data[offset + 1] !== 0x03) return { state: 'malformed', reason: 'unknown TLS record version' };
    const length = data.readUInt16BE(offset + 3);
    if (length === 0 || length > 16_384 + 2048)
      return { state: 'malformed', reason: 'bad TLS record length' };
    const body = data.subarray(offset + 5, Math.min(offset + 5 + length, data.length));
    fragments.push(body);
    have += body.length;
    if (need < 0 && have >= 4) {
      const head = Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO)
        return { state: 'malformed', reason: 'the first handshake is not a ClientHello' };
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES)
        return { state: 'malformed', reason: 'the ClientHello is too large' };
    }
    if (body.length < length) break;
    offset += 5 + length;
    if (need >= 0 && have >= need) break;
  }
  if (need < 0 || have < need) {
    return data.length > MAX_CLIENT_HELLO_BYTES + 1024
      ? { state: 'malformed', reason: 'the ClientHello is too large' }
      : { state: 'incomplete' };
  }
  return readServerName(Buffer.concat(fragments).subarray(4, need));
}

function readServerName(hello: Buffer): ClientHello {
  const bad = (reason: string): ClientHello => ({ state: 'malformed', reason });
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > hello.length) return bad('truncated ClientHello');
  p += 1 + hello[p]!; // session id
  if (p + 2 > hello.length) return bad('truncated ClientHello');
  p += 2 + hello.readUInt16BE(p); // cipher suites
  if (p + 1 > hello.length) return bad('truncated ClientHello');
  p += 1 + hello[p]!; // compression methods
  if (p === hello.length) return { state: 'complete', sni: null };
  if (p + 2 > hello.length) return bad('truncated ClientHello');
  const end = p + 2 + hello.readUInt16BE(p);
  if (end > hello.length) return bad('truncated extensions');
  p += 2;
  let sni: string | null = null;
  let seen = false;
  while (p + 4 <= end) {
    const type = hello.readUInt16BE(p);
    const length = hello.readUInt16BE(p + 2);
    const body = hello.subarray(p + 4, p + 4 + length);
    if (body.length !== length) return bad('truncated extension');
    if (type === SERVER_NAME) {
      if (seen) return bad('two server_name extensions');
      seen = true;
      const names = serverNames(body);
      if (names === undefined) return bad('malformed server_name extension');
      if (names.length !== 1) return bad(`server_name lists ${names.length} host names`);
      sni = names[0]!;
    }
    p += 4 + length;
  }
  if (p !== end) return bad('trailing bytes after the extensions');
  return { state: 'complete', sni };
}

function serverNames(body: Buffer): string[] | undefined {
  if (body.length < 2 || body.readUInt16BE(0) !== body.length - 2) return undefined;
  const names: string[] = [];
  let p = 2;
  while (p + 3 <= body.length) {
    const type = body[p]!;
    const length = body.readUInt16BE(p + 1);
    if (p + 3 + length > body.length) return undefined;
    if (type === 0) names.push(body.subarray(p + 3, p + 3 + length).toString('latin1'));
    p += 3 + length;
  }
  return p === body.length ? names : undefined;
}

/** A fatal TLS alert record, sent before closing a tunnel whose ClientHello is refused. */
export function tlsAlert(description: 'access_denied' | 'unrecognized_name'): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description === 'access_denied' ? 49 : 112]);
}
