// The tool guard: tools a request offers and the calls it (or a response) holds are checked against
// `guards.tools.allowed`, with optional argument rules; more calls in one response than
// `maxCallsPerResponse` is a burst. Unknown tool or burst → Report or Block (GUARD_BLOCKED).
import { ALLOW, fired, type GuardDecision, type GuardPolicy, type ToolArgumentRule } from './policy.ts';
import type { ToolFindings } from './findings.ts';
import type { ToolCallSeen } from './shapes.ts';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Arguments as an object: parsed when they are a JSON string, undefined when unreadable. */
function argumentsOf(args: unknown): Record<string, unknown> | undefined {
  if (isRecord(args)) return args;
  if (typeof args !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(args);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function argumentProblem(rule: ToolArgumentRule, value: unknown): string | undefined {
  if (value === undefined) return rule.required ? 'missing' : undefined;
  if (rule.oneOf && !rule.oneOf.includes(value as string | number | boolean)) return 'not an allowed value';
  if (rule.pattern || rule.maxLength !== undefined) {
    if (typeof value !== 'string') return 'not a string';
    if (rule.maxLength !== undefined && value.length > rule.maxLength) return `longer than ${rule.maxLength}`;
    if (rule.pattern) {
      rule.pattern.lastIndex = 0;
      if (!rule.pattern.test(value)) return 'does not match its pattern';
    }
  }
  return undefined;
}

/** `tool.argument` names whose values break the policy's argument rules (names only, never values). */
export function badArguments(policy: GuardPolicy, call: ToolCallSeen): string[] {
  const rules = policy.tools.arguments?.[call.name];
  if (!rules || call.args === undefined) return [];
  const args = argumentsOf(call.args);
  if (!args) return [`${call.name}(arguments unreadable)`];
  const bad: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const problem = argumentProblem(rule, args[name]);
    if (problem) bad.push(`${call.name}.${name} ${problem}`);
  }
  return bad;
}

export function toolAllowed(policy: GuardPolicy, name: string): boolean {
  return policy.tools.allowed === undefined || policy.tools.allowed.has(name);
}

/** The tools of a request: definitions offered, calls in its history, a forced tool_choice. */
export function checkRequestTools(
  policy: GuardPolicy,
  offered: readonly string[],
  calls: readonly ToolCallSeen[],
): { decision: GuardDecision; findings: ToolFindings | undefined } {
  if (offered.length === 0 && calls.length === 0) return { decision: ALLOW, findings: undefined };
  const notAllowed = new Set<string>();
  for (const name of offered) if (!toolAllowed(policy, name)) notAllowed.add(name);
  const called: string[] = [];
  const bad: string[] = [];
  for (const call of calls) {
    called.push(call.name);
    if (!toolAllowed(policy, call.name)) notAllowed.add(call.name);
    else bad.push(...badArguments(policy, call));
  }
  const findings: ToolFindings = {
    offered: [...offered],
    called,
    notAllowed: [...notAllowed],
    badArguments: bad,
  };
  if (policy.tools.action === 'Off') return { decision: ALLOW, findings };
  const block = policy.tools.action === 'Block';
  if (notAllowed.size > 0) {
    const names = [...notAllowed];
    const reason =
      names.length === 1 ? `tool ${names[0]} not allowed` : `tools ${names.join(', ')} not allowed`;
    return { decision: fired(policy, block, 'GUARD_BLOCKED', reason, 'spec.guards.tools.allowed'), findings };
  }
  if (bad.length > 0) {
    return {
      decision: fired(
        policy,
        block,
        'GUARD_BLOCKED',
        `tool arguments refused: ${bad.join('; ')}`,
        'spec.guards.tools',
      ),
      findings,
    };
  }
  return { decision: ALLOW, findings };
}

/** One tool call the model made in a response; `count` is how many it has made in it so far. */
export function checkResponseToolCall(policy: GuardPolicy, call: ToolCallSeen, count: number): GuardDecision {
  if (policy.tools.action === 'Off') return ALLOW;
  const block = policy.tools.action === 'Block';
  if (!toolAllowed(policy, call.name))
    return fired(
      policy,
      block,
      'GUARD_BLOCKED',
      `tool ${call.name} not allowed`,
      'spec.guards.tools.allowed',
    );
  const max = policy.tools.maxCallsPerResponse;
  if (max !== undefined && count > max)
    return fired(
      policy,
      block,
      'GUARD_BLOCKED',
      `${count} tool calls in one response exceed ${max}`,
      'spec.guards.tools.maxCallsPerResponse',
    );
  const bad = badArguments(policy, call);
  if (bad.length > 0)
    return fired(
      policy,
      block,
      'GUARD_BLOCKED',
      `tool arguments refused: ${bad.join('; ')}`,
      'spec.guards.tools',
    );
  return ALLOW;
}
