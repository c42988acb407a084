// What the guards found, in a shape an audit record can carry: detector names and counts, scores,
// categories, tool names (the app's own identifiers) — never a matched value.
import type { GuardFinding } from '../../../api/src/bundle.ts';
import { DETECTORS, type Detector } from './detect/types.ts';
import type { InjectionCategory } from './injection.ts';
import type { GuardAction, GuardDecision, GuardPolicy } from './policy.ts';

export type DetectorCounts = Partial<Record<Detector, number>>;

export interface BoundaryFindings {
  /** How the body was read: JSON walked per API shape, or scanned as plain text. */
  format: 'json' | 'text' | 'empty' | 'unscannable';
  /** Matches per detector. */
  detected: DetectorCounts;
  /** What was done with them. */
  action: 'none' | 'redacted' | 'blocked' | 'reported';
  /** Why (part of) the body could not be scanned; set whenever a scan was skipped. */
  unscanned?: string;
  /** Images, audio, files and data URIs passed through unscanned (not text). */
  binary: number;
}

export interface InjectionFindings {
  score: number;
  categories: InjectionCategory[];
  /** Where the highest score was: `messages[3] (tool-result)`. */
  where: string;
}

export interface ToolFindings {
  offered: string[];
  called: string[];
  /** Tools offered or called that the allowlist does not name. */
  notAllowed: string[];
  /** Argument constraint failures: `lookup_order.id` — names, never values. */
  badArguments: string[];
}

export interface RequestFindings {
  boundary: BoundaryFindings;
  injection?: InjectionFindings;
  tools?: ToolFindings;
}

export interface ResponseFindings {
  /** Sensitive data the provider sent back (echoed or generated), per detector. */
  detected: DetectorCounts;
  /** Placeholders put back into the response. */
  restored: number;
  toolCalls: string[];
  notAllowed: string[];
  /** Argument constraint failures of the calls made: `lookup_order.id`. */
  badArguments?: string[];
  unscanned?: string;
}

export function countDetectors(into: DetectorCounts, detector: Detector, n = 1): void {
  into[detector] = (into[detector] ?? 0) + n;
}

/** Detector names in code-unit order: the order counts are written in. */
const DETECTOR_ORDER: readonly Detector[] = [...DETECTORS].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** `credit-card:1,email:2`, detectors in a stable (alphabetical) order. */
export function formatCounts(counts: DetectorCounts): string {
  // A loop over the few known names: runs twice per exchange, where entries/sort/map/join cost ~1 µs.
  let out = '';
  for (const detector of DETECTOR_ORDER) {
    const n = counts[detector];
    if (n) out += out === '' ? `${detector}:${n}` : `,${detector}:${n}`;
  }
  return out;
}

export type AuditFields = Record<string, string | number | boolean | null>;

/** Flat fields for the audit record (`chaperone.boundary.*`, `chaperone.guard.*`). */
export function auditFields(request: RequestFindings, response?: ResponseFindings): AuditFields {
  const fields: AuditFields = {};
  const boundary = request.boundary;
  const detected = formatCounts(boundary.detected);
  if (detected) fields['chaperone.boundary.detected'] = detected;
  if (boundary.format === 'text' || boundary.format === 'unscannable')
    fields['chaperone.boundary.format'] = boundary.format;
  if (boundary.action !== 'none') fields['chaperone.boundary.action'] = boundary.action;
  if (boundary.unscanned) fields['chaperone.boundary.unscanned'] = boundary.unscanned;
  if (boundary.binary > 0) fields['chaperone.boundary.binary'] = boundary.binary;
  if (request.injection && request.injection.score > 0) {
    fields['chaperone.guard.injection.score'] = request.injection.score;
    fields['chaperone.guard.injection.categories'] = request.injection.categories.join(',');
  }
  const tools = request.tools;
  if (tools && tools.notAllowed.length > 0)
    fields['chaperone.guard.tools.not_allowed'] = tools.notAllowed.join(',');
  if (tools && tools.badArguments.length > 0)
    fields['chaperone.guard.tools.bad_arguments'] = tools.badArguments.join(',');
  if (response) {
    const echoed = formatCounts(response.detected);
    if (echoed) fields['chaperone.response.detected'] = echoed;
    if (response.restored > 0) fields['chaperone.response.restored'] = response.restored;
    if (response.toolCalls.length > 0) fields['chaperone.response.tool_calls'] = response.toolCalls.length;
    if (response.notAllowed.length > 0)
      fields['chaperone.response.tools_not_allowed'] = response.notAllowed.join(',');
    if (response.unscanned) fields['chaperone.response.unscanned'] = response.unscanned;
  }
  return fields;
}

/** One kind of finding and how often it occurred: what metrics, the controller's Events and alerts count. */
export type FindingCount = GuardFinding;

const actionOf = (policy: GuardPolicy, action: GuardAction): FindingCount['action'] =>
  action === 'Block' && policy.mode === 'Enforce' ? 'blocked' : 'reported';

function detectorCounts(
  into: FindingCount[],
  counts: DetectorCounts,
  action: FindingCount['action'],
  direction: FindingCount['direction'],
): void {
  for (const kind of DETECTOR_ORDER) {
    const count = counts[kind];
    if (count) into.push({ guard: 'data-boundary', kind, action, direction, count });
  }
}

/** Every finding of one exchange, by kind: counts and names, never values. */
export function findingCounts(
  policy: GuardPolicy,
  request: RequestFindings | undefined,
  response: ResponseFindings | undefined,
): FindingCount[] {
  const out: FindingCount[] = [];
  if (request) {
    const { boundary } = request;
    if (boundary.action !== 'none') {
      detectorCounts(out, boundary.detected, boundary.action, 'request');
      if (boundary.unscanned)
        out.push({
          guard: 'data-boundary',
          kind: 'unscanned',
          action: boundary.action,
          direction: 'request',
          count: 1,
        });
    }
    if (request.injection && request.injection.score >= policy.injection.threshold) {
      const action = actionOf(policy, policy.injection.action);
      out.push({ guard: 'prompt-injection', kind: 'score', action, direction: 'request', count: 1 });
    }
    const tools = request.tools;
    const action = actionOf(policy, policy.tools.action);
    if (tools && tools.notAllowed.length > 0)
      out.push({
        guard: 'tools',
        kind: 'allowed',
        action,
        direction: 'request',
        count: tools.notAllowed.length,
      });
    if (tools && tools.badArguments.length > 0)
      out.push({
        guard: 'tools',
        kind: 'arguments',
        action,
        direction: 'request',
        count: tools.badArguments.length,
      });
  }
  if (response) {
    // What the provider sends back is counted, never changed.
    detectorCounts(out, response.detected, 'reported', 'response');
    if (response.unscanned)
      out.push({
        guard: 'data-boundary',
        kind: 'unscanned',
        action: 'reported',
        direction: 'response',
        count: 1,
      });
    const action = actionOf(policy, policy.tools.action);
    if (policy.tools.action !== 'Off') {
      if (response.notAllowed.length > 0)
        out.push({
          guard: 'tools',
          kind: 'allowed',
          action,
          direction: 'response',
          count: response.notAllowed.length,
        });
      const max = policy.tools.maxCallsPerResponse;
      if (max !== undefined && response.toolCalls.length > max)
        out.push({ guard: 'tools', kind: 'maxCallsPerResponse', action, direction: 'response', count: 1 });
      if (response.badArguments && response.badArguments.length > 0)
        out.push({
          guard: 'tools',
          kind: 'arguments',
          action,
          direction: 'response',
          count: response.badArguments.length,
        });
    }
  }
  return out;
}

/** The cost-burst guard's finding, when the reservation's decision came from it. */
export function costBurstFinding(decision: GuardDecision): FindingCount | undefined {
  if (decision.result === 'allow' || decision.rule !== 'spec.guards.costBurst') return undefined;
  return {
    guard: 'cost-burst',
    kind: 'tokensPerMinute',
    action: decision.result === 'deny' ? 'blocked' : 'reported',
    direction: 'request',
    count: 1,
  };
}
