// The local validator: the same schema and the same CEL rules the apiserver enforces, compiled
// once, for the sidecar's standalone policy files and the controller. Messages name the field path.
import Compile from 'typebox/compile';
import { celEnv, isCelError, parse, plan, type CelInput, type CelResult } from '@bufbuild/cel';
import { AIProviderPolicySchema, type AIProviderPolicy } from './index.ts';
import type { CelRule } from './kit.ts';

export interface FieldError {
  /** Kubernetes-style field path: `spec.providers[0].endpoint`. */
  path: string;
  message: string;
}

export type ValidationResult = { ok: true; policy: AIProviderPolicy } | { ok: false; errors: FieldError[] };

const validator = Compile(AIProviderPolicySchema);
const env = celEnv();
const programs = new Map<string, (bindings: { self: CelInput }) => CelResult>();

function program(expression: string): (bindings: { self: CelInput }) => CelResult {
  let compiled = programs.get(expression);
  if (!compiled) {
    compiled = plan(env, parse(expression));
    programs.set(expression, compiled);
  }
  return compiled;
}

/** JSON pointer (`/spec/providers/0/name`) → field path (`spec.providers[0].name`). */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (path, segment) =>
        /^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment,
      '',
    );
}

/** JSON value → CEL input: objects become maps and whole numbers CEL ints, as in Kubernetes. */
function toCel(value: unknown): CelInput {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (value !== null && typeof value === 'object') {
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  }
  return value as CelInput;
}

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  'x-kubernetes-validations'?: CelRule[];
};

function checkRules(schema: SchemaNode, value: unknown, path: string, errors: FieldError[]): void {
  if (value === undefined) return;
  for (const { rule, message } of schema['x-kubernetes-validations'] ?? []) {
    const result = program(rule)({ self: toCel(value) });
    if (isCelError(result))
      errors.push({ path, message: `${message} (rule could not be evaluated: ${result.message})` });
    else if (result !== true) errors.push({ path, message });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => checkRules(schema.items!, item, `${path}[${i}]`, errors));
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      checkRules(child, record[key], path ? `${path}.${key}` : key, errors);
    }
    if (typeof schema.additionalProperties === 'object') {
      for (const [key, child] of Object.entries(record)) {
        if (!schema.properties?.[key])
          checkRules(schema.additionalProperties, child, `${path}.${key}`, errors);
      }
    }
  }
}

/**
 * Validates a policy manifest as the apiserver would: defaults applied first, then the structural
 * schema (unknown fields are errors, as under kubectl's strict field validation), then CEL rules.
 */
export function validatePolicy(input: unknown): ValidationResult {
  const value = validator.Default(structuredClone(input));
  if (!validator.Check(value)) {
    const errors = validator.Errors(value).map((e) => {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties;
      return extra
        ? { path: fieldPath(e.instancePath), message: `unknown field(s): ${extra.join(', ')}` }
        : { path: fieldPath(e.instancePath), message: e.message };
    });
    return { ok: false, errors: dedupe(errors) };
  }
  const errors: FieldError[] = [];
  checkRules(AIProviderPolicySchema as unknown as SchemaNode, value, '', errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, policy: value };
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}\n${e.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function formatErrors(errors: FieldError[]): string {
  return errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('\n');
}
