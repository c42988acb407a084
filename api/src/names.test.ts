import { describe, expect, it } from '@jest/globals';
import { ANNOTATIONS, API_VERSION, POLICY_CRD_NAME, SIDECAR_PORTS } from './names.ts';

describe('the shared names', () => {
  it('spell the API as DESIGN.md fixes it', () => {
    expect(API_VERSION).toBe('chaperone.dev/v1alpha1');
    expect(POLICY_CRD_NAME).toBe('aiproviderpolicies.chaperone.dev');
    expect(ANNOTATIONS.inject).toBe('chaperone.dev/inject');
  });

  it('give every sidecar listener its own port', () => {
    const ports = Object.values(SIDECAR_PORTS);
    expect(new Set(ports).size).toBe(ports.length);
  });
});
