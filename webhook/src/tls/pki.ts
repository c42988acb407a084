// Issuing X.509 certificates with @peculiar/x509 (ECDSA P-256): a CA and leaves signed by it. Used
// by the controller to renew its own webhook certificate and by the local cluster's tooling
// (hack/cluster/pki.ts) for the control plane's PKI.
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdated so a peer whose clock is slightly behind accepts a certificate issued just now. */
const BACKDATE_MS = 60_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface LeafRequest {
  subject: string;
  usage: 'server' | 'client';
  dnsNames?: string[];
  ips?: string[];
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // keep the DER integer positive
  return bytes.toString('hex');
}

function validity(days: number, now: number): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

export function toPem({ cert, keys }: Issued): Pem {
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: cert.toString('pem'), key };
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

/** A self-signed CA valid for `days` (may be fractional; negative: already expired) from `now`. */
export async function createCa(commonName: string, days: number, now = Date.now()): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    ...validity(days, now),
    signingAlgorithm: ecdsa,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

/** A leaf signed by `ca`, valid for `days` from `now`. */
export async function issueLeaf(
  ca: Issued,
  request: LeafRequest,
  days: number,
  now = Date.now(),
): Promise<Issued> {
  const keys = await newKeys();
  const names = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: request.subject,
    issuer: ca.cert.subject,
    ...validity(days, now),
    signingAlgorithm: ecdsa,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        request.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert, keys };
}
