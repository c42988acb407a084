import { beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { createCa, issueLeaf, type Issued } from './pki.ts';
import {
  certificateDnsNames,
  decideRotation,
  nextCaBundle,
  parseCertificates,
  removeFromBundle,
  serviceDnsNames,
  splitCertificates,
  webhookCaBundle,
} from './rotation.ts';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2030-06-01T00:00:00Z');
const at = (days: number): number => NOW.getTime() + days * DAY;
const NAMES = ['chaperone-controller', 'chaperone-controller.sys', 'chaperone-controller.sys.svc'];

interface Pair {
  ca: string;
  leaf: string;
}

/** A CA and a leaf issued `ageDays` before NOW, both valid `days`. */
async function pair(ageDays: number, days: number): Promise<Pair & { issued: Issued }> {
  const issuedAt = at(-ageDays);
  const ca = await createCa('test-ca', days, issuedAt);
  const leaf = await issueLeaf(ca, { subject: 'CN=leaf', usage: 'server', dnsNames: NAMES }, days, issuedAt);
  return { ca: ca.cert.toString('pem'), leaf: leaf.cert.toString('pem'), issued: ca };
}

const fingerprints = (pem: string | undefined): string[] =>
  parseCertificates(pem).map((c) => c.fingerprint256);

let fresh: Pair; // 10 days old of 365
let expiring: Pair; // 345 days old of 365: 20 days left
let expired: Pair; // 400 days old of 365
let other: Pair; // unrelated, fresh
let newer: Pair; // what a rotation would issue

beforeAll(async () => {
  [fresh, expiring, expired, other, newer] = await Promise.all([
    pair(10, 365),
    pair(345, 365),
    pair(400, 365),
    pair(1, 365),
    pair(0, 365),
  ]);
});

describe('decideRotation', () => {
  it.each([
    ['no certificate', () => ({ certPem: undefined, caPem: undefined }), 'MISSING'],
    ['an empty certificate', () => ({ certPem: '', caPem: fresh.ca }), 'MISSING'],
    [
      'a corrupt certificate',
      () => ({ certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', caPem: fresh.ca }),
      'UNREADABLE',
    ],
    ['an expired certificate', () => ({ certPem: expired.leaf, caPem: expired.ca }), 'EXPIRED'],
    ['20 days left, renew 30 before', () => ({ certPem: expiring.leaf, caPem: expiring.ca }), 'EXPIRING'],
    ['a leaf its ca.crt did not sign', () => ({ certPem: fresh.leaf, caPem: other.ca }), 'UNTRUSTED'],
    ['a leaf without ca.crt', () => ({ certPem: fresh.leaf, caPem: undefined }), 'UNTRUSTED'],
  ])('rotates %s', (_name, input, reason) => {
    expect(decideRotation({ ...input(), now: NOW, renewBeforeDays: 30 })).toEqual({ rotate: true, reason });
  });

  it('keeps a valid certificate and says when it will renew it', () => {
    const decision = decideRotation({
      certPem: fresh.leaf,
      caPem: other.ca + fresh.ca, // the signer need not come first
      now: NOW,
      renewBeforeDays: 30,
    });
    const notAfter = new X509Certificate(fresh.leaf).validToDate.getTime();
    expect(decision).toEqual({ rotate: false, reason: 'VALID', renewAt: new Date(notAfter - 30 * DAY) });
  });

  it('rotates exactly at renewAt, not a second before', () => {
    const notAfter = new X509Certificate(fresh.leaf).validToDate.getTime();
    const input = { certPem: fresh.leaf, caPem: fresh.ca, renewBeforeDays: 30 };
    expect(decideRotation({ ...input, now: new Date(notAfter - 30 * DAY - 1000) }).rotate).toBe(false);
    expect(decideRotation({ ...input, now: new Date(notAfter - 30 * DAY) })).toEqual({
      rotate: true,
      reason: 'EXPIRING',
    });
  });
});

describe('nextCaBundle', () => {
  it.each([
    ['keeps the CA that signed the previous leaf', () => [expiring.leaf, expiring.ca], () => [expiring.ca]],
    [
      'drops previous CAs that did not sign the leaf',
      () => [expiring.leaf, other.ca + expiring.ca],
      () => [expiring.ca],
    ],
    ['drops an expired previous CA', () => [expired.leaf, expired.ca], () => []],
    [
      'keeps every live previous CA when the leaf is unreadable',
      () => [undefined, other.ca + expired.ca + fresh.ca],
      () => [other.ca, fresh.ca],
    ],
    ['does not repeat the new CA', () => [newer.leaf, newer.ca + expiring.ca], () => [] as string[]],
  ])('puts the new CA first and %s', (_name, previous, kept) => {
    const [certPem, caPem] = previous();
    const bundle = nextCaBundle(newer.ca, { certPem, caPem }, NOW);
    expect(fingerprints(bundle)).toEqual(fingerprints([newer.ca, ...kept()].join('')));
  });
});

describe('webhookCaBundle', () => {
  it.each([
    ['empty: the required CAs', () => [undefined, fresh.ca], () => [fresh.ca], true],
    ['already the required CAs: unchanged', () => [fresh.ca, fresh.ca], () => [fresh.ca], false],
    [
      'a live CA another replica just added stays',
      () => [`${fresh.ca}\n${newer.ca}\n`, `${fresh.ca}\n`],
      () => [fresh.ca, newer.ca],
      false,
    ],
    [
      'a missing required CA is added first',
      () => [fresh.ca, newer.ca + fresh.ca],
      () => [newer.ca, fresh.ca],
      true,
    ],
    [
      'an expired CA ca.crt lacks is removed',
      () => [expired.ca + fresh.ca, fresh.ca],
      () => [fresh.ca],
      true,
    ],
    [
      "an expired CA of ca.crt stays: caBundle mirrors the Secret's bytes",
      () => [fresh.ca, fresh.ca + expired.ca],
      () => [fresh.ca, expired.ca],
      true,
    ],
    [
      'a corrupt block is removed',
      () => [`${fresh.ca}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, fresh.ca],
      () => [fresh.ca],
      true,
    ],
  ])('%s', (_name, input, expected, changed) => {
    const [current, required] = input();
    const result = webhookCaBundle(current, required!, NOW);
    expect(fingerprints(result.pem)).toEqual(fingerprints(expected().join('')));
    expect(result.changed).toBe(changed);
    // Stable: a second pass over its own result changes nothing.
    expect(webhookCaBundle(result.pem, required!, NOW)).toEqual({ pem: result.pem, changed: false });
  });

  it("writes the Secret's ca.crt byte for byte when it trusts nothing else", () => {
    const required = `${fresh.ca.trim()}\n\n${other.ca}`;
    expect(webhookCaBundle(undefined, required, NOW)).toEqual({ pem: required, changed: true });
  });
});

describe('PEM helpers', () => {
  it('splits a bundle and ignores text between blocks', () => {
    expect(splitCertificates(`# comment\n${fresh.ca}\n\n${other.ca}`)).toHaveLength(2);
    expect(splitCertificates(undefined)).toEqual([]);
  });

  it('removes one CA from a bundle', () => {
    expect(fingerprints(removeFromBundle(fresh.ca + newer.ca, newer.ca))).toEqual(fingerprints(fresh.ca));
  });

  it('reads the DNS names of the leaf', () => {
    expect(certificateDnsNames(fresh.leaf + fresh.ca)).toEqual(NAMES);
    expect(certificateDnsNames(undefined)).toEqual([]);
  });

  it.each([
    [
      'chaperone-controller.sys.svc',
      [
        'chaperone-controller',
        'chaperone-controller.sys',
        'chaperone-controller.sys.svc',
        'chaperone-controller.sys.svc.cluster.local',
      ],
    ],
    ['localhost', ['localhost']],
  ])('derives the Service names of %s', (host, names) => {
    expect(serviceDnsNames(host, 'cluster.local')).toEqual(names);
  });
});
