import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { INVALID_CASES, validPolicy } from '../../../test/fixtures/policy-cases.ts';
import { fieldPath, formatErrors, validatePolicy } from './validate.ts';

const examplesDir = new URL('../../../examples/', import.meta.url);
const examplePolicies = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) =>
    parseAllDocuments(readFileSync(new URL(file, examplesDir), 'utf8'))
      .map((doc) => doc.toJS() as { kind: string })
      .filter((doc) => doc.kind === 'AIProviderPolicy')
      .map((doc) => [file, doc] as const),
  );

describe('validatePolicy', () => {
  it.each(examplePolicies)('accepts the example %s', (_file, policy) => {
    const result = validatePolicy(policy);
    expect(result.ok ? '' : formatErrors(result.errors)).toBe('');
  });

  it('fills in the secure defaults, as the apiserver does', () => {
    const result = validatePolicy(validPolicy());
    if (!result.ok) throw new Error(formatErrors(result.errors));
    const { spec } = result.policy;
    expect(spec.mode).toBe('Enforce');
    expect(spec.killSwitch).toBe(false);
    expect(spec.podSelector).toEqual({});
    expect(spec.audit.content).toBe('Metadata');
    expect(spec.dataBoundary).toEqual({
      action: 'Redact',
      restoreInResponse: false,
      detectors: ['email', 'phone', 'credit-card', 'us-ssn', 'iban', 'secret', 'jwt'],
    });
    expect(spec.guards.promptInjection).toEqual({ action: 'Report', threshold: 50 });
    const [provider] = spec.providers;
    expect(provider?.allowedMethods).toEqual(['GET', 'POST']);
    expect(provider?.killSwitch).toBe(false);
    expect(provider?.circuitBreaker).toEqual({
      timeoutSeconds: 60,
      errorThresholdPercentage: 50,
      volumeThreshold: 20,
      resetSeconds: 30,
    });
    expect(provider?.limits.maxRequestBytes).toBe(1_048_576);
  });

  it('does not modify its input', () => {
    const input = validPolicy();
    const before = JSON.stringify(input);
    validatePolicy(input);
    expect(JSON.stringify(input)).toBe(before);
  });

  it.each(INVALID_CASES)('rejects $name at $path', ({ mutate, path, message, schema }) => {
    const policy = validPolicy();
    mutate(policy);
    const result = validatePolicy(policy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const atPath = result.errors.filter((e) => e.path === path).map((e) => e.message);
    if (message) expect(atPath).toContain(message);
    if (schema) expect(atPath.join('\n')).toMatch(schema.local);
  });

  it('rejects what is not an object at all, naming the root', () => {
    const result = validatePolicy('providers: []');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatErrors(result.errors)).toMatch(/^\(root\): must be object/);
  });
});

describe('fieldPath', () => {
  it.each([
    ['', ''],
    ['/spec', 'spec'],
    ['/spec/providers/0/endpoint', 'spec.providers[0].endpoint'],
    [
      '/spec/podSelector/matchLabels/app.kubernetes.io~1name',
      'spec.podSelector.matchLabels.app.kubernetes.io/name',
    ],
  ])('%s → %s', (pointer, path) => {
    expect(fieldPath(pointer)).toBe(path);
  });
});
