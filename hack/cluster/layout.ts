// Where a local cluster keeps its files, and the command lines of its three processes.
// Pure: nothing here touches the disk or starts anything.
import { join } from 'node:path';

export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
}

export interface ClusterPaths {
  stateDir: string;
  kubeconfig: string;
  stateFile: string;
  logDir: string;
  pkiDir: string;
  /** etcd's data lives in a temporary folder, removed at shutdown. */
  dataDir: string;
  binDir: string;
}

export function clusterPaths(stateDir: string, dataDir: string, binDir: string): ClusterPaths {
  return {
    stateDir,
    kubeconfig: join(stateDir, 'kubeconfig'),
    stateFile: join(stateDir, 'state.json'),
    logDir: join(stateDir, 'logs'),
    pkiDir: join(stateDir, 'pki'),
    dataDir,
    binDir,
  };
}

/** File names under pkiDir. */
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  apiserverCert: 'apiserver.crt',
  apiserverKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  controllerManagerCert: 'controller-manager.crt',
  controllerManagerKey: 'controller-manager.key',
  serviceAccountPublicKey: 'sa.pub',
  serviceAccountPrivateKey: 'sa.key',
  controllerManagerKubeconfig: 'controller-manager.kubeconfig',
} as const;

export const apiserverUrl = (ports: Ports): string => `https://127.0.0.1:${ports.apiserver}`;

export function commandLines(paths: ClusterPaths, ports: Ports): Record<Component, string[]> {
  const pki = (file: keyof typeof PKI_FILES): string => join(paths.pkiDir, PKI_FILES[file]);
  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
  const issuer = apiserverUrl(ports);
  return {
    etcd: [
      '--name=chaperone',
      `--data-dir=${join(paths.dataDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=chaperone=${peerUrl}`,
      // A throwaway test store: durability buys nothing and fsync dominates start-up on slow disks.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    'kube-apiserver': [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki('apiserverCert')}`,
      `--tls-private-key-file=${pki('apiserverKey')}`,
      `--client-ca-file=${pki('caCert')}`,
      '--authorization-mode=RBAC',
      '--anonymous-auth=true',
      // Projected tokens, TokenRequest and OIDC discovery (/.well-known/openid-configuration).
      `--service-account-issuer=${issuer}`,
      `--service-account-key-file=${pki('serviceAccountPublicKey')}`,
      `--service-account-signing-key-file=${pki('serviceAccountPrivateKey')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      // The defaults plus the webhook plugins, named so that turning them off is a visible change.
      '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,ResourceQuota,LimitRanger,DefaultStorageClass',
      '--allow-privileged=true',
      // No kubelet or real network: the "kubernetes" Service endpoint would point at loopback,
      // which endpoint validation refuses.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=1',
    ],
    'kube-controller-manager': [
      `--kubeconfig=${pki('controllerManagerKubeconfig')}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(paths.pkiDir, 'controller-manager-serving')}`,
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki('serviceAccountPrivateKey')}`,
      `--root-ca-file=${pki('caCert')}`,
      `--cluster-signing-cert-file=${pki('caCert')}`,
      `--cluster-signing-key-file=${pki('caKey')}`,
      '--leader-elect=false',
      '--controllers=*',
      '--profiling=false',
      '--v=1',
    ],
  };
}
