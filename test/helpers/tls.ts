// Serving certificates for a controller on loopback, issued by a throwaway CA (the cluster's own PKI
// code), written the way the kubelet writes a mounted Secret: files swapped in atomically.
import { KeyObject } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueLeaf } from '../../hack/cluster/pki.ts';

type Issued = Awaited<ReturnType<typeof createCa>>;

export interface ServingPem {
  cert: string;
  key: string;
  /** Serial number (hex) of the leaf: tells one issued certificate from the next. */
  serial: string;
}

export interface TestCa {
  /** PEM of the CA certificate: the webhook configuration's caBundle. */
  caPem: string;
  /** A serving certificate for 127.0.0.1 / localhost, valid `days` (negative: already expired). */
  issueServing(days?: number): Promise<ServingPem>;
}

function keyPem(issued: Issued): string {
  return KeyObject.from(issued.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
}

export async function createTestCa(name = 'chaperone-test-webhook-ca'): Promise<TestCa> {
  const ca = await createCa(name, 1);
  return {
    caPem: ca.cert.toString('pem'),
    async issueServing(days = 1) {
      const leaf = await issueLeaf(
        ca,
        { subject: 'CN=chaperone-controller', usage: 'server', dnsNames: ['localhost'], ips: ['127.0.0.1'] },
        days,
      );
      return {
        cert: leaf.cert.toString('pem'),
        key: keyPem(leaf),
        serial: leaf.cert.serialNumber.toLowerCase(),
      };
    },
  };
}

/** Writes cert and key into `dir` as tls.crt / tls.key, each through a temporary file and a rename. */
export function writeServingFiles(dir: string, pem: ServingPem): { certFile: string; keyFile: string } {
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(`${keyFile}.tmp`, pem.key, { mode: 0o600 });
  writeFileSync(`${certFile}.tmp`, pem.cert);
  renameSync(`${keyFile}.tmp`, keyFile);
  renameSync(`${certFile}.tmp`, certFile);
  return { certFile, keyFile };
}
