// Destination parsing: CONNECT authorities, absolute-form request targets and Host headers, split
// strictly (anything another parser could read differently is refused) and normalised once:
// IDNA to ASCII (Unicode dots, full-width letters, case), trailing dot stripped. IP literals are
// refused: allowlists name hosts, and private networks are allowed only through allowedCIDRs.
import { isIPv4, isIPv6 } from 'node:net';
import { fail, ok, type Checked } from './refuse.ts';

export interface Destination {
  /** Normalised host name: lowercase ASCII, no trailing dot. */
  host: string;
  port: number;
}

export interface AbsoluteTarget extends Destination {
  scheme: 'http' | 'https';
  /** Whether the target named its port (otherwise the scheme's default applied). */
  explicitPort: boolean;
  /** Path and query as sent (`/v1/models?x=1`), `/` when empty. */
  pathAndQuery: string;
}

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
// Bytes no host may carry; `%` is listed because WHATWG decodes it in hosts and other parsers do not.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_HOST_CHARS = /[\s\u0000-\u001f\u007f/?#[\]"<>^`{|}]/;

/** Normalises a host name (no port). IP literals in any encoding are refused. */
export function normalizeHost(raw: string): Checked<string> {
  if (raw.length === 0 || raw.length > 1024) return fail('malformed-host', 'the host is empty or too long');
  if (raw.includes('@')) return fail('userinfo', `the host "${printable(raw)}" carries userinfo ('@')`);
  if (raw.includes('\\')) return fail('backslash', `the host "${printable(raw)}" contains a backslash`);
  if (raw.includes('%'))
    return fail('percent-encoded-host', `the host "${printable(raw)}" is percent-encoded`);
  if (raw.startsWith('[') || raw.includes(':')) {
    const inner = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    if (isIPv6(inner))
      return fail('ip-literal', `IP literal "${printable(raw)}": allowlists name hosts, not addresses`);
    return fail('malformed-host', `"${printable(raw)}" is not a host name`);
  }
  if (FORBIDDEN_HOST_CHARS.test(raw))
    return fail('malformed-host', `the host "${printable(raw)}" contains characters no host name has`);
  let ascii: string;
  try {
    // The WHATWG host parser: IDNA (UTS #46) mapping, Unicode dots, numeric IPv4 forms.
    ascii = new URL(`http://${raw}/`).hostname;
  } catch {
    return fail('malformed-host', `"${printable(raw)}" is not a valid host name`);
  }
  if (isIPv4(ascii) || isIPv4(raw))
    return fail(
      'ip-literal',
      `IP literal "${printable(raw)}" (${ascii}): allowlists name hosts, not addresses`,
    );
  const host = ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
  if (host.length === 0 || host.length > 253 || !host.split('.').every((label) => LABEL.test(label)))
    return fail('malformed-host', `"${printable(raw)}" is not a valid host name`);
  return ok(host);
}

/** `digits` → port; refuses signs, leading zeros, hex, whitespace, 0 and > 65535. */
export function parsePort(raw: string): Checked<number> {
  if (!/^[1-9][0-9]{0,4}$/.test(raw))
    return fail('malformed-port', `the port "${printable(raw)}" is not a decimal number 1-65535`);
  const port = Number(raw);
  if (port > 65535) return fail('malformed-port', `the port ${port} is out of range`);
  return ok(port);
}

/** `host:port` (CONNECT's authority-form; `[v6]:port` is recognised and refused as an IP literal). */
export function parseAuthority(authority: string, defaultPort?: number): Checked<Destination> {
  if (authority.includes('@'))
    return fail('userinfo', `the authority "${printable(authority)}" carries userinfo ('@')`);
  if (authority.includes('\\'))
    return fail('backslash', `the authority "${printable(authority)}" contains a backslash`);
  let hostPart: string;
  let portPart: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return fail('malformed-host', `"${printable(authority)}" has an unclosed '['`);
    hostPart = authority.slice(0, close + 1);
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':'))
      return fail('malformed-port', `"${printable(authority)}" has text after its IPv6 literal`);
    portPart = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = authority.indexOf(':');
    hostPart = colon < 0 ? authority : authority.slice(0, colon);
    portPart = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  const host = normalizeHost(hostPart);
  if (!host.ok) return host;
  let port: number;
  if (portPart === undefined) {
    if (defaultPort === undefined)
      return fail('malformed-port', `the authority "${printable(authority)}" names no port`);
    port = defaultPort;
  } else {
    const parsed = parsePort(portPart);
    if (!parsed.ok) return parsed;
    port = parsed.value;
  }
  return ok({ host: host.value, port });
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/** An absolute-form request target (`http://host[:port]/path?query`), as a forward proxy receives. */
export function parseAbsoluteTarget(target: string): Checked<AbsoluteTarget> {
  const scheme = SCHEME.exec(target)?.[1]?.toLowerCase();
  if (scheme === undefined)
    return fail('malformed-target', `"${printable(target)}" is not an absolute http(s) URL`);
  if (scheme !== 'http' && scheme !== 'https')
    return fail('scheme', `the scheme "${scheme}:" is not HTTP: only http and https are proxied`);
  if (target.includes('\\'))
    return fail('backslash', `the target "${printable(target)}" contains a backslash`);
  if (target.includes('#')) return fail('fragment', `the target "${printable(target)}" carries a fragment`);
  const afterScheme = target.slice(scheme.length + 1);
  if (!afterScheme.startsWith('//'))
    return fail('malformed-target', `"${printable(target)}" must be scheme://host[:port]/path`);
  const rest = afterScheme.slice(2);
  const end = rest.search(/[/?]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const pathAndQuery = end < 0 ? '/' : rest.slice(end);
  if (!pathAndQuery.startsWith('/'))
    return fail('malformed-target', `"${printable(target)}" has a query but no path`);
  const hasPort = authority.startsWith('[') ? /\]:/.test(authority) : authority.includes(':');
  const destination = parseAuthority(authority, DEFAULT_PORTS[scheme]);
  if (!destination.ok) return destination;
  return ok({ ...destination.value, scheme, explicitPort: hasPort, pathAndQuery });
}

/** For reasons and logs: control and non-ASCII characters escaped, length bounded. */
export function printable(value: string): string {
  const escaped = JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value).slice(1, -1);

  return escaped.replace(/[^\u0020-\u007e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
