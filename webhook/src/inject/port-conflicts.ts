// The sidecar binds SIDECAR_PORTS inside the pod's network namespace. A container that declares
// one of them, or a known mesh proxy that binds them (Istio's envoy uses 15000, 15001 and 15020),
// would leave the sidecar crash-looping and the app never started: refuse such a pod up front.
import type { V1Pod } from '@kubernetes/client-node';
import { KNOWN_SIDECAR_PORTS, SIDECAR_CONTAINER_NAME } from '../../../api/src/injection.ts';
import { SIDECAR_PORTS } from '../../../api/src/names.ts';
import { PortConflictError } from '../errors.ts';

const OURS = new Set<number>(Object.values(SIDECAR_PORTS));

export function assertNoPortConflicts(pod: V1Pod): void {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const container of containers) {
    if (container.name === SIDECAR_CONTAINER_NAME) continue;
    const ports = [
      ...(container.ports ?? []).map((p) => p.containerPort),
      ...(KNOWN_SIDECAR_PORTS[container.name] ?? []),
    ];
    const clashing = [...new Set(ports.filter((port) => OURS.has(port)))].sort((a, b) => a - b);
    if (clashing.length > 0) {
      throw new PortConflictError(
        `container ${JSON.stringify(container.name)} uses port(s) ${clashing.join(', ')}, which ` +
          `${SIDECAR_CONTAINER_NAME} needs (${[...OURS].join(', ')}); set chaperone.dev/inject: "false" on this pod`,
      );
    }
  }
}
