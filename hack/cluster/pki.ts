// Certificates and keys for the local control plane: one CA, the apiserver's serving certificate,
// client certificates for the admin and the controller-manager, and the service-account signing key.
import { generateKeyPairSync } from 'node:crypto';
import { createCa, issueLeaf, toPem, type Pem } from '../../webhook/src/tls/pki.ts';

// The issuing code is shared with the controller, which renews its own webhook certificate.
export { createCa, issueLeaf, type Pem };

export interface ClusterPki {
  ca: Pem;
  apiserver: Pem;
  admin: Pem;
  controllerManager: Pem;
  /** RS256 key pair the apiserver signs service-account tokens with. */
  serviceAccount: { publicKey: string; privateKey: string };
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
