// inspectRequest: the data boundary and the request-side guards over one request body, before it
// leaves the pod. Parse once, walk the content fields of the API shape, run the detectors over the
// content strings, score prompt injection, check tools; then Redact (placeholders spliced into the
// original bytes, or the parsed body re-serialised), Block (422) or Report. A body that is not JSON is scanned as text; one that cannot be scanned at
// all (compressed, not UTF-8) is refused unless the boundary only reports. Pure: no IO, no clock.
import { isUtf8 } from 'node:buffer';
import { scanTexts } from './detect/batch.ts';
import { scanText } from './detect/scan.ts';
import type { Match } from './detect/types.ts';
import {
  countDetectors,
  type BoundaryFindings,
  type InjectionFindings,
  type RequestFindings,
} from './findings.ts';
import { scorePieces } from './injection.ts';
import { Placeholders, redactText } from './placeholders.ts';
import { redactSegments, spliceValues } from './rewrite.ts';
import { ALLOW, fired, stronger, type GuardDecision, type GuardPolicy } from './policy.ts';
import { walkRequest, type ApiShape, type Segment } from './shapes.ts';
import { checkRequestTools } from './tools.ts';
import { JsonBody } from '../policy/json-body.ts';

export interface RequestInspection {
  /** allow, report (let through, recorded) or deny (answer with the refusal). */
  decision: GuardDecision;
  /** The body to send: the original bytes unless redaction rewrote it. */
  body: Buffer | undefined;
  findings: RequestFindings;
  /** Placeholder → value, only when dataBoundary.restoreInResponse is on and something was redacted. */
  placeholders: Placeholders | undefined;
  /** Tokens this request may use, estimated before the call (input text / 4, plus its output cap). */
  estimatedTokens: number;
}

/** Characters of text per token, the usual rule of thumb for English with BPE tokenizers. */
const CHARS_PER_TOKEN = 4;
/** What an image or file part is assumed to cost, in tokens. */
const BINARY_TOKENS = 800;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function outputCap(body: unknown): number {
  if (!isRecord(body)) return 0;
  for (const key of ['max_completion_tokens', 'max_tokens', 'max_output_tokens', 'maxTokens']) {
    const v = body[key];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.min(v, 1_000_000);
  }
  return 0;
}

function estimate(chars: number, binary: number, body: unknown): number {
  return Math.ceil(chars / CHARS_PER_TOKEN) + binary * BINARY_TOKENS + outputCap(body);
}

function segmentName(segment: Segment, shape: ApiShape): string {
  const list = shape === 'openai-responses' ? 'input' : 'messages';
  return segment.message >= 0 ? `${list}[${segment.message}] (${segment.kind})` : segment.kind;
}

/** The data boundary's verdict on what the detectors found. */
function boundaryDecision(policy: GuardPolicy, findings: BoundaryFindings, total: number): GuardDecision {
  if (total === 0) return ALLOW;
  const action = policy.boundary.action;
  if (action === 'Report') {
    findings.action = 'reported';
    return ALLOW;
  }
  if (action === 'Redact') {
    findings.action = 'redacted';
    return ALLOW;
  }
  const names = Object.keys(findings.detected).sort();
  const decision = fired(
    policy,
    true,
    'DATA_BOUNDARY_BLOCKED',
    `${names.length === 1 ? 'detector' : 'detectors'} ${names.join(', ')}`,
    'spec.dataBoundary.action',
  );
  findings.action = decision.result === 'deny' ? 'blocked' : 'reported';
  return decision;
}

/** A body that cannot be scanned: refused unless the boundary only reports (never skipped silently). */
function unscannable(
  policy: GuardPolicy,
  body: Buffer,
  why: string,
  estimatedTokens: number,
): RequestInspection {
  const boundary: BoundaryFindings = {
    format: 'unscannable',
    detected: {},
    action: 'none',
    unscanned: why,
    binary: 0,
  };
  let decision = ALLOW;
  if (policy.boundary.detectors.any && policy.boundary.action !== 'Report') {
    decision = fired(
      policy,
      true,
      'DATA_BOUNDARY_BLOCKED',
      `the body cannot be scanned (${why})`,
      'spec.dataBoundary.action',
    );
    boundary.action = decision.result === 'deny' ? 'blocked' : 'reported';
  } else if (policy.boundary.detectors.any) {
    boundary.action = 'reported';
  }
  return { decision, body, findings: { boundary }, placeholders: undefined, estimatedTokens };
}

/**
 * Scores the text a person or a tool wrote in the new turn — what follows the model's last message:
 * the user's input, tool results, retrieved documents. Earlier turns were scored when they were new.
 * The highest-scoring piece decides.
 */
function injectionCheck(
  policy: GuardPolicy,
  allSegments: readonly Segment[],
  shape: ApiShape,
  lastModelMessage = -1,
): { decision: GuardDecision; findings: InjectionFindings | undefined } {
  if (policy.injection.action === 'Off') return { decision: ALLOW, findings: undefined };
  const segments =
    lastModelMessage < 0
      ? allSegments
      : allSegments.filter((s) => s.message > lastModelMessage || s.message < 0);
  const { index, score } = scorePieces(segments);
  if (index < 0 || score.score === 0) return { decision: ALLOW, findings: undefined };
  const best: InjectionFindings = {
    score: score.score,
    categories: score.categories,
    where: segmentName(segments[index]!, shape),
  };
  if (best.score < policy.injection.threshold) return { decision: ALLOW, findings: best };
  const decision = fired(
    policy,
    policy.injection.action === 'Block',
    'GUARD_BLOCKED',
    `prompt-injection score ${best.score} ≥ ${policy.injection.threshold} (${best.categories.join(', ')} in ${best.where})`,
    'spec.guards.promptInjection',
  );
  return { decision, findings: best };
}

/** A body that is not JSON: scanned as one text. */
function inspectText(policy: GuardPolicy, body: Buffer, text: string): RequestInspection {
  const boundary: BoundaryFindings = { format: 'text', detected: {}, action: 'none', binary: 0 };
  const matches: Match[] = [];
  const total = scanText(text, policy.boundary.detectors, matches);
  for (const m of matches) countDetectors(boundary.detected, m.detector);
  let decision = boundaryDecision(policy, boundary, total);
  let out = body;
  let placeholders: Placeholders | undefined;
  if (boundary.action === 'redacted') {
    placeholders = new Placeholders();
    out = Buffer.from(redactText(text, matches, 0, matches.length, placeholders));
  }
  const findings: RequestFindings = { boundary };
  if (policy.injection.action !== 'Off') {
    const injection = injectionCheck(
      policy,
      [{ holder: [], key: 0, text, kind: 'user', message: -1, embedded: -1 }],
      'generic',
    );
    findings.injection = injection.findings;
    decision = stronger(decision, injection.decision);
  }
  return {
    decision,
    body: out,
    findings,
    placeholders: policy.boundary.restore && placeholders && placeholders.size > 0 ? placeholders : undefined,
    estimatedTokens: Math.ceil(text.length / CHARS_PER_TOKEN),
  };
}

/**
 * Inspects one request body. `shape` comes from apiShapeOf(provider type, path); `contentEncoding`
 * is the request's Content-Encoding header, if any.
 */
export function inspectRequest(
  body: Buffer | undefined,
  shape: ApiShape,
  policy: GuardPolicy,
  contentEncoding?: string,
  json: JsonBody | undefined = body && new JsonBody(body),
): RequestInspection {
  if (body === undefined || body.length === 0) {
    return {
      decision: ALLOW,
      body,
      findings: { boundary: { format: 'empty', detected: {}, action: 'none', binary: 0 } },
      placeholders: undefined,
      estimatedTokens: 0,
    };
  }
  const roughTokens = Math.ceil(body.length / CHARS_PER_TOKEN);
  if (contentEncoding !== undefined && contentEncoding !== 'identity' && contentEncoding !== '')
    return unscannable(policy, body, `the body is ${contentEncoding}-encoded`, roughTokens);
  if (!isUtf8(body)) return unscannable(policy, body, 'the body is not valid UTF-8', roughTokens);
  const decoded = json ?? new JsonBody(body);
  const read = decoded.parse();
  if (!read.ok) return inspectText(policy, body, decoded.text);
  const parsed = read.value;
  const box = { body: parsed };
  const walk = walkRequest(box, shape);
  const boundary: BoundaryFindings = { format: 'json', detected: {}, action: 'none', binary: walk.binary };
  const findings: RequestFindings = { boundary };

  // Detectors over all content strings at once; ranges[2i, 2i+1) are segment i's matches.
  const matches: Match[] = [];
  const ranges = new Int32Array(walk.segments.length * 2);
  if (policy.boundary.detectors.any) {
    scanTexts(
      walk.segments.map((s) => s.text),
      policy.boundary.detectors,
      matches,
      ranges,
    );
  }
  for (const m of matches) countDetectors(boundary.detected, m.detector);
  let decision = boundaryDecision(policy, boundary, matches.length);

  const injection = injectionCheck(policy, walk.segments, shape, walk.lastModelMessage);
  findings.injection = injection.findings;
  decision = stronger(decision, injection.decision);

  const tools = checkRequestTools(policy, walk.toolsOffered, walk.toolCalls);
  findings.tools = tools.findings;
  decision = stronger(decision, tools.decision);

  const estimatedTokens = estimate(walk.chars, walk.binary, parsed);
  if (decision.result === 'deny' || boundary.action !== 'redacted') {
    return { decision, body, findings, placeholders: undefined, estimatedTokens };
  }
  // Placeholders are numbered in the order values first appear; the same value keeps its own.
  const placeholders = new Placeholders();
  const counts = new Map<string, number>();
  for (let i = 0; i < walk.segments.length; i++) {
    const text = walk.segments[i]!.text;
    for (let k = ranges[2 * i]!; k < ranges[2 * i + 1]!; k++) {
      const m = matches[k]!;
      const value = text.slice(m.start, m.end);
      placeholders.placeholderFor(m.detector, value);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
  }
  let rewritten = spliceValues(decoded.text, counts, placeholders);
  try {
    if (rewritten === undefined) {
      redactSegments(walk, matches, ranges, placeholders);
      rewritten = Buffer.from(JSON.stringify(box.body));
    }
  } catch {
    // Deeper than the serialiser goes: the body cannot leave redacted, so it does not leave.
    boundary.unscanned = 'the JSON is nested too deeply to rewrite';
    const refused = fired(
      policy,
      true,
      'DATA_BOUNDARY_BLOCKED',
      'the body cannot be redacted (nested too deeply to rewrite)',
      'spec.dataBoundary.action',
    );
    boundary.action = refused.result === 'deny' ? 'blocked' : 'reported';
    return { decision: refused, body, findings, placeholders: undefined, estimatedTokens };
  }
  return {
    decision,
    body: rewritten,
    findings,
    placeholders: policy.boundary.restore ? placeholders : undefined,
    estimatedTokens,
  };
}
