// A throwaway CA and one serving certificate for the mock providers (localhost, 127.0.0.1 and
// *.mock.test), built with the same helpers as the local cluster's PKI.
import { KeyObject } from 'node:crypto';
import { createCa, issueLeaf } from '../../hack/cluster/pki.ts';

export interface MockPki {
  /** PEM of the CA: a provider's caBundle, or NODE_EXTRA_CA_CERTS for an app. */
  ca: string;
  cert: string;
  key: string;
}

export const MOCK_HOSTS = ['localhost', 'mock.test', '*.mock.test'];

let cached: Promise<MockPki> | undefined;

/** One PKI per test process (generating keys is the slow part). */
export function mockPki(): Promise<MockPki> {
  cached ??= (async () => {
    const ca = await createCa('chaperone-mock-provider-ca', 2);
    const leaf = await issueLeaf(
      ca,
      { subject: 'CN=mock-provider', usage: 'server', dnsNames: MOCK_HOSTS, ips: ['127.0.0.1', '::1'] },
      2,
    );
    return {
      ca: ca.cert.toString('pem'),
      cert: leaf.cert.toString('pem'),
      key: KeyObject.from(leaf.keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  })();
  return cached;
}
