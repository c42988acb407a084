import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ADMIN_PORT_NAME,
  CHAPERONE_VERSION,
  INJECTION_ANNOTATIONS,
  PROVIDER_SDK_ENV,
  PROXY_ENV,
  SIDECAR_ENV,
  genericBaseUrlEnv,
  providerEndpoint,
} from './injection.ts';

describe('the injection contract', () => {
  it('carries the version of package.json', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(CHAPERONE_VERSION).toBe(pkg.version);
  });

  it('keeps every annotation under chaperone.dev/ and distinct', () => {
    const keys = Object.values(INJECTION_ANNOTATIONS);
    expect(keys.every((k) => k.startsWith('chaperone.dev/'))).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('names no environment variable twice', () => {
    const names = [
      ...Object.values(SIDECAR_ENV),
      ...Object.values(PROXY_ENV).flat(),
      ...Object.values(PROVIDER_SDK_ENV).flatMap((e) => [e.baseUrl, e.apiKey]),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  it('uses a port name Kubernetes accepts (IANA service name, at most 15 characters)', () => {
    expect(ADMIN_PORT_NAME).toMatch(/^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
  });

  it.each([
    ['openai', 'CHAPERONE_OPENAI_BASE_URL'],
    ['my-llm', 'CHAPERONE_MY_LLM_BASE_URL'],
    ['gw2', 'CHAPERONE_GW2_BASE_URL'],
  ])('derives the generic base URL variable of %s', (name, variable) => {
    expect(genericBaseUrlEnv(name)).toBe(variable);
  });

  it('puts provider endpoints under the sidecar provider port', () => {
    expect(providerEndpoint('openai', '/v1')).toBe('http://127.0.0.1:15000/openai/v1');
  });
});
