// What the guards found, in a shape an audit record can carry: detector names and counts, scores,
// categories, tool names (the app's own identifiers) — never a matched value.
import type { Detector } from './detect/types.ts';
import type { InjectionCategory } from './injection.ts';

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
  unscanned?: string;
}

export function countDetectors(into: DetectorCounts, detector: Detector, n = 1): void {
  into[detector] = (into[detector] ?? 0) + n;
}

/** `email:2,credit-card:1`, detectors in a stable order. */
export function formatCounts(counts: DetectorCounts): string {
  return Object.entries(counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([d, n]) => `${d}:${n}`)
    .join(',');
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
