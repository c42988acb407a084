// The chaperone-proxy container. Every field the apiserver would default is spelled out, so the
// stored pod equals mutate()'s output and re-injection (reinvocation) changes nothing.
import type { V1Container, V1EnvVar, V1Probe } from '@kubernetes/client-node';
import { ADMIN_PORT_NAME, SIDECAR_CONTAINER_NAME, SIDECAR_ENV } from '../../../api/src/injection.ts';
import { SIDECAR_PORTS } from '../../../api/src/names.ts';
import type { InjectionSettings } from './settings.ts';
import { tokenFiles, tokenVolumeMount } from './token-volume.ts';

function fieldEnv(name: string, fieldPath: string): V1EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

function adminProbe(path: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return {
    httpGet: { path, port: ADMIN_PORT_NAME, scheme: 'HTTP' },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 1,
    successThreshold: 1,
  };
}

export function buildSidecarContainer(settings: InjectionSettings): V1Container {
  const container: V1Container = {
    name: SIDECAR_CONTAINER_NAME,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    ports: [{ name: ADMIN_PORT_NAME, containerPort: SIDECAR_PORTS.admin, protocol: 'TCP' }],
    env: [
      fieldEnv(SIDECAR_ENV.podName, 'metadata.name'),
      fieldEnv(SIDECAR_ENV.podNamespace, 'metadata.namespace'),
      fieldEnv(SIDECAR_ENV.podUid, 'metadata.uid'),
      fieldEnv(SIDECAR_ENV.serviceAccount, 'spec.serviceAccountName'),
      { name: SIDECAR_ENV.controllerUrl, value: settings.controllerUrl },
      ...(settings.controllerCa ? [{ name: SIDECAR_ENV.controllerCa, value: settings.controllerCa }] : []),
      { name: SIDECAR_ENV.tokenFiles, value: JSON.stringify(tokenFiles(settings)) },
      // Egress ports stay on loopback; only the admin port listens on the pod IP, for the kubelet.
      { name: SIDECAR_ENV.adminAddress, value: `:${SIDECAR_PORTS.admin}` },
    ],
    resources: {
      requests: { ...settings.resources.requests },
      limits: { ...settings.resources.limits },
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: settings.runAsUser,
      runAsGroup: settings.runAsGroup,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    // The app starts only once the proxy has a policy and is ready (native mode), for up to 2 minutes.
    startupProbe: adminProbe('/readyz', 1, 120),
    readinessProbe: adminProbe('/readyz', 5, 3),
    livenessProbe: adminProbe('/healthz', 10, 3),
    volumeMounts: [tokenVolumeMount()],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (settings.mode === 'native') container.restartPolicy = 'Always';
  return container;
}
