// Kubernetes Events on policies, aggregated: one Event per (policy, reason, message) and replica
// whose count and lastTimestamp grow, never one Event per occurrence. Kill-switch transitions are
// written by the leader; refusal and finding Events by the replica whose sidecars reported them
// (each replica hears only its own sidecars' streams), so every occurrence is counted once.
import * as k8s from '@kubernetes/client-node';
import type { GuardFinding } from '../../../api/src/bundle.ts';
import type { PolicySpecType } from '../../../api/src/policy/index.ts';
import { API_VERSION, POLICY } from '../../../api/src/names.ts';
import type { Logger } from '../log.ts';

export interface PolicyRef {
  name: string;
  namespace: string;
  uid: string;
}

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** How many occurrences this records (aggregated denials). */
  count?: number;
}

/** Kill-switch transitions between two versions of a spec, as Events. Pure. */
export function killSwitchEvents(previous: PolicySpecType | undefined, next: PolicySpecType): EventSpec[] {
  const events: EventSpec[] = [];
  const was = previous?.killSwitch ?? false;
  if (next.killSwitch !== was) {
    events.push(
      next.killSwitch
        ? {
            type: 'Warning',
            reason: 'KillSwitchEngaged',
            message: 'kill switch engaged: every request under this policy is refused',
          }
        : { type: 'Normal', reason: 'KillSwitchReleased', message: 'kill switch released' },
    );
  }
  const before = new Map((previous?.providers ?? []).map((p) => [p.name, p.killSwitch]));
  for (const p of next.providers) {
    if (p.killSwitch === (before.get(p.name) ?? false)) continue;
    events.push(
      p.killSwitch
        ? {
            type: 'Warning',
            reason: 'KillSwitchEngaged',
            message: `kill switch engaged for provider ${p.name}`,
          }
        : {
            type: 'Normal',
            reason: 'KillSwitchReleased',
            message: `kill switch released for provider ${p.name}`,
          },
    );
  }
  return events;
}

const TOOL_FINDINGS: Readonly<Record<string, string>> = {
  allowed: 'a tool the policy does not allow',
  maxCallsPerResponse: 'a burst of tool calls',
  arguments: 'tool arguments the policy refuses',
};

/**
 * A sidecar's guard finding as an Event on its policy: what was found, where and what was done —
 * never a value. Warning when something was blocked or sensitive data left unredacted.
 */
export function guardFindingEvent(finding: GuardFinding & { provider?: string }): EventSpec {
  const { guard, kind, action, direction } = finding;
  const provider = finding.provider ?? '(unknown)';
  const where =
    direction === 'request' ? `requests to provider ${provider}` : `responses from provider ${provider}`;
  const count = finding.count;
  if (guard === 'data-boundary') {
    if (kind === 'unscanned')
      return {
        type: action === 'blocked' ? 'Warning' : 'Normal',
        reason: 'GuardFinding',
        message: `${where} could not be scanned (${action})`,
        count,
      };
    if (direction === 'response')
      return { type: 'Normal', reason: 'SensitiveDataDetected', message: `${kind} in ${where}`, count };
    if (action === 'redacted')
      return {
        type: 'Normal',
        reason: 'SensitiveDataRedacted',
        message: `${kind} redacted from ${where}`,
        count,
      };
    if (action === 'blocked')
      return { type: 'Warning', reason: 'SensitiveDataBlocked', message: `${where} blocked: ${kind}`, count };
    return {
      type: 'Warning',
      reason: 'SensitiveDataDetected',
      message: `${kind} in ${where} (reported, sent as is)`,
      count,
    };
  }
  const what =
    guard === 'prompt-injection'
      ? 'prompt injection'
      : guard === 'cost-burst'
        ? 'a token burst'
        : (TOOL_FINDINGS[kind] ?? `tools (${kind})`);
  return {
    type: action === 'blocked' ? 'Warning' : 'Normal',
    reason: 'GuardFinding',
    message: `${what} in ${where} (${action})`,
    count,
  };
}

const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;

export class EventRecorder {
  private readonly core: k8s.CoreV1Api;
  private readonly logger: Logger;
  private readonly identity: string;
  private readonly recent = new Map<string, { name: string; count: number; at: number }>();
  /** Records of one key run one after the other, so concurrent ones aggregate instead of racing. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(kc: k8s.KubeConfig, logger: Logger, identity: string) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.logger = logger;
    this.identity = identity;
  }

  record(policy: PolicyRef, event: EventSpec): Promise<void> {
    const key = `${policy.uid}\n${event.reason}\n${event.message}`;
    const next = (this.queues.get(key) ?? Promise.resolve()).then(() => this.write(key, policy, event));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
    return next;
  }

  private async write(key: string, policy: PolicyRef, event: EventSpec): Promise<void> {
    const now = new Date();
    const add = event.count ?? 1;
    const seen = this.recent.get(key);
    try {
      if (seen && now.getTime() - seen.at < AGGREGATE_WINDOW_MS) {
        seen.count += add;
        seen.at = now.getTime();
        await this.core.patchNamespacedEvent(
          { name: seen.name, namespace: policy.namespace, body: { count: seen.count, lastTimestamp: now } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        return;
      }
      const created = await this.core.createNamespacedEvent({
        namespace: policy.namespace,
        body: {
          metadata: { generateName: `${policy.name}.` },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: POLICY.kind,
            name: policy.name,
            namespace: policy.namespace,
            uid: policy.uid,
          },
          type: event.type,
          reason: event.reason,
          message: event.message,
          count: add,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'chaperone-controller', host: this.identity },
          reportingComponent: 'chaperone.dev/controller',
          reportingInstance: this.identity,
        },
      });
      this.recent.set(key, { name: created.metadata.name!, count: add, at: now.getTime() });
    } catch (err) {
      this.logger.warn(
        { policy: `${policy.namespace}/${policy.name}`, reason: event.reason, err: String(err) },
        'event not recorded',
      );
    }
  }
}
