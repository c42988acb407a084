// Request paths are checked in the form the provider will act on: percent-decoded, dot segments
// resolved. What is forwarded is exactly what was checked (the same segments, their encoding kept).
// Encodings whose meaning differs between parsers — encoded slashes, backslashes or dot segments,
// double encoding, control characters, malformed escapes — are refused, never "fixed".
import { fail, ok, type Checked } from './refuse.ts';
import { printable } from './host.ts';

export interface NormalizedPath {
  /** What is sent upstream: the raw segments after dot-segment resolution. */
  forward: string;
  /** What policy rules are matched against: the same segments, percent-decoded. */
  decoded: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// Control characters, space, DEL and everything above ASCII.
const NOT_PRINTABLE_ASCII = /[^\u0021-\u007e]/;
const PERCENT = /%(?![0-9A-Fa-f]{2})/;
// What makes a path differ from its normal form: an escape, a path parameter, a dot or empty segment.
const NEEDS_RESOLVING = /[%;]|\/[./]/;

/**
 * Normalises an origin-form path (no query). Literal `.` and `..` segments are resolved and may not
 * climb above the root; empty segments (`//`) are refused except a trailing slash.
 */
export function normalizePath(raw: string): Checked<NormalizedPath> {
  if (!raw.startsWith('/')) return fail('malformed-path', `the path "${printable(raw)}" is not absolute`);
  if (raw.includes('\\')) return fail('backslash', `the path "${printable(raw)}" contains a backslash`);
  if (raw.includes('#')) return fail('fragment', `the path "${printable(raw)}" carries a fragment`);
  if (NOT_PRINTABLE_ASCII.test(raw))
    return fail('malformed-path', `the path "${printable(raw)}" contains whitespace or non-ASCII bytes`);
  // Most paths (`/v1/chat/completions`) are already normal: the segment walk would rebuild them as
  // they are, so it is skipped (~2.5 µs a request in a CPU profile under load; five allocations).
  return NEEDS_RESOLVING.test(raw) ? resolveSegments(raw) : ok({ forward: raw, decoded: raw });
}

/** The segment walk behind normalizePath, for an absolute, printable ASCII path. */
export function resolveSegments(raw: string): Checked<NormalizedPath> {
  const segments = raw.slice(1).split('/');
  const forward: string[] = [];
  const decoded: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '' && !last)
      return fail('malformed-path', `the path "${printable(raw)}" has an empty segment ('//')`);
    if (segment === '.' || segment === '..') {
      if (segment === '..') {
        if (forward.length === 0)
          return fail('path-traversal', `the path "${printable(raw)}" climbs above its root`);
        forward.pop();
        decoded.pop();
      }
      if (last) {
        forward.push('');
        decoded.push('');
      }
      continue;
    }
    const plain = decodeSegment(segment, raw);
    if (!plain.ok) return plain;
    // `..;x` is a dot segment to servers that strip path parameters (Tomcat, Spring).
    const beforeParams = plain.value.split(';')[0];
    if (beforeParams === '.' || beforeParams === '..')
      return fail('path-traversal', `the path "${printable(raw)}" hides a dot segment behind ';'`);
    forward.push(segment);
    decoded.push(plain.value);
  }
  return ok({ forward: `/${forward.join('/')}`, decoded: `/${decoded.join('/')}` });
}

function decodeSegment(segment: string, raw: string): Checked<string> {
  if (!segment.includes('%')) return ok(segment);
  if (PERCENT.test(segment))
    return fail('malformed-path', `the path "${printable(raw)}" has a malformed percent-escape`);
  let plain: string;
  try {
    plain = decodeURIComponent(segment);
  } catch {
    return fail('malformed-path', `the path "${printable(raw)}" does not decode to UTF-8`);
  }
  if (plain.includes('/') || plain.includes('\\'))
    return fail('encoded-slash', `the path "${printable(raw)}" encodes a slash or backslash`);
  if (plain === '.' || plain === '..')
    return fail('encoded-dot-segment', `the path "${printable(raw)}" encodes a dot segment`);
  if (plain.includes('%'))
    return fail('double-encoding', `the path "${printable(raw)}" is percent-encoded twice`);
  if (CONTROL.test(plain))
    return fail('encoded-control', `the path "${printable(raw)}" encodes a control character`);
  return ok(plain);
}

/** Splits `path?query` at the first `?`. */
export function splitQuery(pathAndQuery: string): { path: string; query: string } {
  const q = pathAndQuery.indexOf('?');
  return q < 0
    ? { path: pathAndQuery, query: '' }
    : { path: pathAndQuery.slice(0, q), query: pathAndQuery.slice(q) };
}
