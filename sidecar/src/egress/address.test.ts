import { describe, expect, it } from '@jest/globals';
import { cidrList, classifyAddress, embeddedIPv4, ipv6Groups } from './address.ts';

describe('classifyAddress', () => {
  it.each([['8.8.8.8'], ['104.18.6.192'], ['2606:4700::6812:6c0'], ['::ffff:8.8.8.8'], ['64:ff9b::808:808']])(
    'allows the public address %s',
    (address) => {
      expect(classifyAddress(address)).toMatchObject({ allowed: true, explicit: false });
    },
  );

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.100.100.200', 'CGNAT shared address space'],
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved / broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'unique local (private; includes AWS metadata fd00:ec2::254)'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata)'],
    ['::ffff:0:a00:1', 'private (RFC 1918)'],
    ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata)'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['2002:a9fe:a9fe::1', '6to4'],
    ['2002:0808:0808::1', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
  ])('refuses %s as %s', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ allowed: false, range });
  });

  it('allows private networks listed in allowedCIDRs, and nothing else', () => {
    const allowed = cidrList(['10.42.0.0/16', 'fd00:42::/64']);
    expect(classifyAddress('10.42.3.4', allowed)).toMatchObject({ allowed: true, explicit: true });
    expect(classifyAddress('::ffff:10.42.3.4', allowed)).toMatchObject({ allowed: true, explicit: true });
    expect(classifyAddress('fd00:42::7', allowed)).toMatchObject({ allowed: true, explicit: true });
    expect(classifyAddress('10.43.0.1', allowed)).toMatchObject({ allowed: false });
    expect(classifyAddress('169.254.169.254', allowed)).toMatchObject({ allowed: false });
  });

  it('refuses what is not an address', () => {
    expect(classifyAddress('localhost')).toMatchObject({ allowed: false, range: 'invalid' });
    expect(classifyAddress('fe80::1%eth0')).toMatchObject({ allowed: false, range: 'invalid' });
  });
});

describe('IPv6 helpers', () => {
  it('expands compressed forms and a trailing dotted quad', () => {
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  });
  it('finds the IPv4 address a Teredo address hides', () => {
    expect(embeddedIPv4('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toEqual({
      form: 'Teredo',
      ipv4: '192.0.2.45',
    });
  });
});
