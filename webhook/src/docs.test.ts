// docs/webhook.md is the reference users read: every code, reason, annotation, flag and sidecar
// variable the controller knows must appear in it.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INFRASTRUCTURE_CONTAINERS, INJECTION_ANNOTATIONS, SIDECAR_ENV } from '../../api/src/injection.ts';
import { FLAGS } from './config.ts';
import { BAD_REQUEST_REASONS, ERROR_CODES } from './errors.ts';
import { INJECT_REASONS, SKIP_REASONS } from './inject/reasons.ts';

const doc = readFileSync(join(import.meta.dirname, '../../docs/webhook.md'), 'utf8');

describe('docs/webhook.md', () => {
  it.each([
    ...Object.values(ERROR_CODES),
    ...Object.values(BAD_REQUEST_REASONS),
    ...Object.values(SKIP_REASONS),
    ...Object.values(INJECT_REASONS),
  ])('documents code/reason %s', (code) => {
    expect(doc).toContain(`\`${code}\``);
  });

  it.each(Object.values(INJECTION_ANNOTATIONS))('documents annotation %s', (annotation) => {
    expect(doc).toContain(`\`${annotation}\``);
  });

  it.each(Object.entries(FLAGS))('documents flag --%s', (name, spec) => {
    expect(doc).toContain(`\`--${name}`);
    expect(doc).toContain(`\`${spec.env}\``);
  });

  it.each([...Object.values(SIDECAR_ENV), ...INFRASTRUCTURE_CONTAINERS])('mentions %s', (name) => {
    expect(doc).toContain(name);
  });
});
