// Certificates and keys for the local control plane: one CA, the apiserver's serving certificate,
// client certificates for the admin and the controller-manager, and the service-account signing key.
import { KeyObject, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs the Reflect polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface Pem {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: Pem;
  apiserver: Pem;
  admin: Pem;
  controllerManager: Pem;
  /** RS256 key pair the apiserver signs service-account tokens with. */
  serviceAccount: { publicKey: string; privateKey: string };
}

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

interface LeafRequest {
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

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY_MS) };
}

function toPem({ cert, keys }: Issued): Pem {
  const key = KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  return { cert: cert.toString('pem'), key };
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

export async function createCa(commonName: string, days: number): Promise<Issued> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    ...validity(days),
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

export async function issueLeaf(ca: Issued, request: LeafRequest, days: number): Promise<Issued> {
  const keys = await newKeys();
  const names = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: request.subject,
    issuer: ca.cert.subject,
    ...validity(days),
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

/** Everything the local control plane needs, valid for `days` (a local cluster is short-lived). */
export async function createClusterPki(days = 30): Promise<ClusterPki> {
  const ca = await createCa('chaperone-local-cluster-ca', days);
  const [apiserver, admin, controllerManager] = await Promise.all([
    issueLeaf(
      ca,
      {
        subject: 'CN=kube-apiserver',
        usage: 'server',
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        ips: ['127.0.0.1', '::1', '10.0.0.1'],
      },
      days,
    ),
    // system:masters bypasses RBAC: the kubeconfig handed to users and tests is cluster-admin.
    issueLeaf(ca, { subject: 'CN=chaperone-admin, O=system:masters', usage: 'client' }, days),
    // The controller-manager runs as itself and gets per-controller service-account credentials,
    // as kubeadm sets it up, so RBAC is exercised for real.
    issueLeaf(ca, { subject: 'CN=system:kube-controller-manager', usage: 'client' }, days),
  ]);
  const serviceAccount = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    ca: toPem(ca),
    apiserver: toPem(apiserver),
    admin: toPem(admin),
    controllerManager: toPem(controllerManager),
    serviceAccount,
  };
}
