// AdmissionRequest → AdmissionResponse. Anything that is not a Pod CREATE (other kinds, updates,
// the ephemeralcontainers subresource) is allowed unchanged with its reason.
import type { V1Pod } from '@kubernetes/client-node';
import { SKIP_REASONS } from '../inject/reasons.ts';
import { admitPod, type AdmissionDeps } from './admit-pod.ts';
import { diffPatch, encodePatch } from './patch.ts';
import type { AdmissionRequest, AdmissionResponse } from './review.ts';

export type AdmissionResult = 'skipped' | 'injected' | 'already-injected' | 'denied';

export interface AdmissionDecision {
  result: AdmissionResult;
  /** A SKIP_REASONS / INJECT_REASONS value, or the error code of a denial. */
  reason: string;
  patchOperations: number;
  warnings: string[];
}

export interface HandledAdmission {
  response: AdmissionResponse;
  decision: AdmissionDecision;
}

function allow(uid: string, decision: AdmissionDecision, patch?: string): HandledAdmission {
  const response: AdmissionResponse = {
    uid,
    allowed: true,
    auditAnnotations: { decision: `${decision.result}/${decision.reason}` },
  };
  if (patch !== undefined) {
    response.patchType = 'JSONPatch';
    response.patch = patch;
  }
  if (decision.warnings.length > 0) response.warnings = decision.warnings;
  return { response, decision };
}

const skipped = (uid: string, reason: string): HandledAdmission =>
  allow(uid, { result: 'skipped', reason, patchOperations: 0, warnings: [] });

/** Rejects with a ChaperoneError when a lookup fails (the caller answers 500). */
export async function handleAdmissionRequest(
  request: AdmissionRequest,
  deps: AdmissionDeps,
): Promise<HandledAdmission> {
  const { uid } = request;
  if (request.kind.group !== '' || request.kind.kind !== 'Pod') return skipped(uid, SKIP_REASONS.NOT_A_POD);
  if (request.subResource) return skipped(uid, SKIP_REASONS.SUBRESOURCE);
  if (request.operation !== 'CREATE') return skipped(uid, SKIP_REASONS.NOT_CREATE);

  const pod = request.object as V1Pod;
  const namespace = request.namespace || pod.metadata?.namespace || 'default';
  const outcome = await admitPod(pod, namespace, deps);

  if (outcome.result === 'skipped') return skipped(uid, outcome.reason);
  if (outcome.result === 'denied') {
    return {
      response: {
        uid,
        allowed: false,
        status: {
          code: 400,
          reason: 'BadRequest',
          message: `chaperone: ${outcome.code}: ${outcome.message}`,
        },
        auditAnnotations: { decision: `denied/${outcome.code}` },
      },
      decision: { result: 'denied', reason: outcome.code, patchOperations: 0, warnings: [] },
    };
  }
  const operations = diffPatch(pod, outcome.pod);
  const warnings = [...new Set(outcome.warnings)].map((w) => `chaperone: ${w}`);
  if (operations.length === 0) {
    return allow(uid, { result: 'already-injected', reason: outcome.reason, patchOperations: 0, warnings });
  }
  return allow(
    uid,
    { result: 'injected', reason: outcome.reason, patchOperations: operations.length, warnings },
    encodePatch(operations),
  );
}
