// Which resolved addresses a provider may be reached at. Public unicast only, unless the provider's
// allowedCIDRs names the network. IPv6 forms that carry an IPv4 address (mapped, compatible, SIIT,
// NAT64) are judged by that IPv4 address; 6to4 and Teredo tunnels are refused outright.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export type AddressVerdict =
  | { allowed: true; address: string; family: 4 | 6; explicit: boolean }
  | { allowed: false; address: string; range: string; reason: string };

interface Range {
  network: string;
  prefix: number;
  name: string;
}

const V4_RANGES: Range[] = [
  { network: '0.0.0.0', prefix: 8, name: 'unspecified ("this network")' },
  { network: '10.0.0.0', prefix: 8, name: 'private (RFC 1918)' },
  { network: '100.64.0.0', prefix: 10, name: 'CGNAT shared address space' },
  { network: '127.0.0.0', prefix: 8, name: 'loopback' },
  { network: '169.254.0.0', prefix: 16, name: 'link-local (cloud metadata)' },
  { network: '172.16.0.0', prefix: 12, name: 'private (RFC 1918)' },
  { network: '192.0.0.0', prefix: 24, name: 'IETF protocol assignments' },
  { network: '192.0.2.0', prefix: 24, name: 'documentation' },
  { network: '192.88.99.0', prefix: 24, name: '6to4 relay anycast' },
  { network: '192.168.0.0', prefix: 16, name: 'private (RFC 1918)' },
  { network: '198.18.0.0', prefix: 15, name: 'benchmarking' },
  { network: '198.51.100.0', prefix: 24, name: 'documentation' },
  { network: '203.0.113.0', prefix: 24, name: 'documentation' },
  { network: '224.0.0.0', prefix: 4, name: 'multicast' },
  { network: '240.0.0.0', prefix: 4, name: 'reserved / broadcast' },
];

const V6_RANGES: Range[] = [
  { network: '::', prefix: 128, name: 'unspecified' },
  { network: '::1', prefix: 128, name: 'loopback' },
  { network: '64:ff9b:1::', prefix: 48, name: 'local-use NAT64' },
  { network: '100::', prefix: 64, name: 'discard-only' },
  { network: '2001::', prefix: 23, name: 'IETF protocol assignments' },
  { network: '2001:db8::', prefix: 32, name: 'documentation' },
  { network: '3fff::', prefix: 20, name: 'documentation' },
  { network: 'fc00::', prefix: 7, name: 'unique local (private; includes AWS metadata fd00:ec2::254)' },
  { network: 'fe80::', prefix: 10, name: 'link-local' },
  { network: 'fec0::', prefix: 10, name: 'site-local (deprecated)' },
  { network: 'ff00::', prefix: 8, name: 'multicast' },
];

function buildList(ranges: Range[], family: 'ipv4' | 'ipv6'): Map<string, BlockList> {
  const lists = new Map<string, BlockList>();
  for (const range of ranges) {
    const list = lists.get(range.name) ?? new BlockList();
    list.addSubnet(range.network, range.prefix, family);
    lists.set(range.name, list);
  }
  return lists;
}

const V4_LISTS = buildList(V4_RANGES, 'ipv4');
const V6_LISTS = buildList(V6_RANGES, 'ipv6');

function rangeOf(address: string, family: 4 | 6): string | undefined {
  // Each IPv4 range is also checked as IPv4-mapped IPv6 by BlockList itself; explicit below anyway.
  for (const [name, list] of family === 4 ? V4_LISTS : V6_LISTS) {
    if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return name;
  }
  return undefined;
}

/** IPv6 text → eight 16-bit groups (accepts `::` and a trailing dotted quad). */
export function ipv6Groups(address: string): number[] | undefined {
  if (!isIPv6(address) || address.includes('%')) return undefined;
  let text = address.toLowerCase();
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = 8 - left.length - right.length;
  return [...left, ...new Array<number>(tail === undefined ? 0 : fill).fill(0), ...right];
}

const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** The IPv4 address an IPv6 address carries, and in which form. */
export function embeddedIPv4(address: string): { form: string; ipv4: string } | undefined {
  const g = ipv6Groups(address);
  if (!g) return undefined;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { form: 'IPv4-mapped', ipv4: v4(g[6]!, g[7]!) };
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0)
    return { form: 'IPv4-translated (SIIT)', ipv4: v4(g[6]!, g[7]!) };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { form: 'NAT64', ipv4: v4(g[6]!, g[7]!) };
  if (g[0] === 0x2002) return { form: '6to4', ipv4: v4(g[1]!, g[2]!) };
  if (g[0] === 0x2001 && g[1] === 0) return { form: 'Teredo', ipv4: v4(g[6]! ^ 0xffff, g[7]! ^ 0xffff) };
  if (zeros(0, 6) && (g[6]! !== 0 || g[7]! > 1)) return { form: 'IPv4-compatible', ipv4: v4(g[6]!, g[7]!) };
  return undefined;
}

/** Provider-specific exceptions: the networks of its allowedCIDRs. */
export function cidrList(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(network, Number(prefix), isIPv4(network) ? 'ipv4' : 'ipv6');
  }
  return list;
}

function isExplicitlyAllowed(address: string, family: 4 | 6, allowed: BlockList | undefined): boolean {
  return allowed?.check(address, family === 4 ? 'ipv4' : 'ipv6') ?? false;
}

/** Judges one resolved address. `allowed` holds the provider's allowedCIDRs, if any. */
export function classifyAddress(address: string, allowed?: BlockList): AddressVerdict {
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : 0;
  if (family === 0 || address.includes('%'))
    return { allowed: false, address, range: 'invalid', reason: `"${address}" is not an IP address` };
  if (isExplicitlyAllowed(address, family, allowed))
    return { allowed: true, address, family, explicit: true };
  if (family === 6) {
    const embedded = embeddedIPv4(address);
    if (embedded) {
      if (embedded.form === '6to4' || embedded.form === 'Teredo')
        return {
          allowed: false,
          address,
          range: embedded.form,
          reason: `${address} is a ${embedded.form} tunnel address (carrying ${embedded.ipv4})`,
        };
      if (isExplicitlyAllowed(embedded.ipv4, 4, allowed))
        return { allowed: true, address, family, explicit: true };
      const inner = rangeOf(embedded.ipv4, 4);
      if (inner)
        return {
          allowed: false,
          address,
          range: inner,
          reason: `${address} is ${embedded.form} for ${embedded.ipv4}, a ${inner} address`,
        };
      return { allowed: true, address, family, explicit: false };
    }
  }
  const range = rangeOf(address, family);
  if (range) return { allowed: false, address, range, reason: `${address} is a ${range} address` };
  return { allowed: true, address, family, explicit: false };
}
