// The controller's view of AIProviderPolicy objects: each is validated with the same schema and
// CEL rules as the apiserver; a generation that fails keeps the last good one in force and the
// reason goes to the policy's status.
import { API_VERSION, POLICY } from '../../../api/src/names.ts';
import type { BundlePolicy } from '../../../api/src/bundle.ts';
import { formatErrors, validatePolicy } from '../../../api/src/policy/validate.ts';

export interface PolicyObject {
  metadata?: { name?: string; namespace?: string; uid?: string; generation?: number };
  spec?: unknown;
}

export interface PolicyState {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  /** The policy in force: this generation when valid, else the last valid one (if any). */
  accepted?: BundlePolicy;
  /** Why this generation was not accepted. */
  error?: string;
}

export class PolicyStore {
  private readonly byUid = new Map<string, PolicyState>();

  /** Records the object; returns its namespace (the sidecars to refresh). */
  upsert(object: PolicyObject): string | undefined {
    return this.update(object)?.namespace;
  }

  /** Records the object; returns its new state and the previously accepted policy. */
  update(
    object: PolicyObject,
  ): { namespace: string; state: PolicyState; previous?: BundlePolicy } | undefined {
    const { name, namespace, uid, generation = 0 } = object.metadata ?? {};
    if (!name || !namespace || !uid) return undefined;
    const previous = this.byUid.get(uid);
    const result = validatePolicy({
      apiVersion: API_VERSION,
      kind: POLICY.kind,
      metadata: { name, namespace },
      spec: object.spec,
    });
    const state: PolicyState = result.ok
      ? { name, namespace, uid, generation, accepted: { name, uid, generation, spec: result.policy.spec } }
      : {
          name,
          namespace,
          uid,
          generation,
          accepted: previous?.accepted,
          error: formatErrors(result.errors),
        };
    this.byUid.set(uid, state);
    return { namespace, state, ...(previous?.accepted && { previous: previous.accepted }) };
  }

  remove(object: PolicyObject): string | undefined {
    const uid = object.metadata?.uid;
    const state = uid ? this.byUid.get(uid) : undefined;
    if (!state) return undefined;
    this.byUid.delete(state.uid);
    return state.namespace;
  }

  /** The policies in force in `namespace`. */
  accepted(namespace: string): BundlePolicy[] {
    return [...this.byUid.values()]
      .filter((s) => s.namespace === namespace && s.accepted)
      .map((s) => s.accepted!);
  }

  states(): PolicyState[] {
    return [...this.byUid.values()];
  }

  /** uid → generation in force, for enforcement counting. */
  inForce(): Map<string, number> {
    return new Map(
      this.states()
        .filter((s) => s.accepted)
        .map((s) => [s.uid, s.accepted!.generation]),
    );
  }
}
