// Kubeconfig documents for the local cluster, with the credentials embedded so the file is
// self-contained (it can be copied or handed to kubectl, helm and @kubernetes/client-node alike).
import { stringify } from 'yaml';
import type { Pem } from './pki.ts';

const b64 = (pem: string): string => Buffer.from(pem).toString('base64');

export function renderKubeconfig(server: string, caCert: string, user: string, client: Pem): string {
  const name = 'chaperone-local';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server, 'certificate-authority-data': b64(caCert) } }],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(client.cert), 'client-key-data': b64(client.key) },
      },
    ],
    contexts: [{ name, context: { cluster: name, user, namespace: 'default' } }],
    'current-context': name,
  });
}
