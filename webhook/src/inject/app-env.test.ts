import { describe, expect, it } from '@jest/globals';
import type { V1Container } from '@kubernetes/client-node';
import { applyAppEnv, providerEnv, type EnvSetting } from './app-env.ts';
import type { ProviderRef } from './settings.ts';

const envOf = (settings: EnvSetting[]): Record<string, string> =>
  Object.fromEntries(settings.flatMap((s) => s.names.map((n) => [n, s.value])));

describe('providerEnv', () => {
  it.each([
    [
      'openai',
      [{ name: 'openai', type: 'openai' }],
      {
        OPENAI_BASE_URL: 'http://127.0.0.1:15000/openai/v1',
        OPENAI_API_KEY: 'chaperone-managed-placeholder',
      },
    ],
    [
      'anthropic under another name',
      [{ name: 'claude', type: 'anthropic' }],
      {
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:15000/claude',
        ANTHROPIC_API_KEY: 'chaperone-managed-placeholder',
      },
    ],
    [
      'azure-openai',
      [{ name: 'azure', type: 'azure-openai' }],
      {
        AZURE_OPENAI_ENDPOINT: 'http://127.0.0.1:15000/azure',
        AZURE_OPENAI_API_KEY: 'chaperone-managed-placeholder',
      },
    ],
    [
      'bedrock',
      [{ name: 'bedrock', type: 'bedrock' }],
      { CHAPERONE_BEDROCK_BASE_URL: 'http://127.0.0.1:15000/bedrock' },
    ],
    [
      'vertex',
      [{ name: 'gemini-eu', type: 'vertex' }],
      { CHAPERONE_GEMINI_EU_BASE_URL: 'http://127.0.0.1:15000/gemini-eu' },
    ],
    [
      'a second provider of one type',
      [
        { name: 'openai', type: 'openai' },
        { name: 'openai-eu', type: 'openai' },
      ],
      {
        OPENAI_BASE_URL: 'http://127.0.0.1:15000/openai/v1',
        OPENAI_API_KEY: 'chaperone-managed-placeholder',
        CHAPERONE_OPENAI_EU_BASE_URL: 'http://127.0.0.1:15000/openai-eu',
      },
    ],
  ] as [string, ProviderRef[], Record<string, string>][])('%s', (_title, providers, expected) => {
    expect(envOf(providerEnv(providers))).toEqual(expected);
  });
});

describe('applyAppEnv', () => {
  const desired: EnvSetting[] = [
    { names: ['HTTPS_PROXY', 'https_proxy'], value: 'http://127.0.0.1:15001', warnIfUserSet: true },
    { names: ['OPENAI_API_KEY'], value: 'placeholder', warnIfUserSet: false },
  ];

  it('appends every missing variable after the existing ones', () => {
    const container: V1Container = { name: 'app', env: [{ name: 'A', value: '1' }] };
    const { container: out, warnings } = applyAppEnv(container, desired);
    expect(out.env?.map((e) => e.name)).toEqual(['A', 'HTTPS_PROXY', 'https_proxy', 'OPENAI_API_KEY']);
    expect(warnings).toEqual([]);
    expect(container.env).toHaveLength(1); // the input is not modified
  });

  it.each([
    ['HTTPS_PROXY', 'http://corp:3128', true],
    ['https_proxy', 'http://corp:3128', true],
    ['HTTPS_PROXY', 'http://127.0.0.1:15001', false],
  ])('keeps a user-set %s=%s and does not set its pair', (name, value, warns) => {
    const { container, warnings } = applyAppEnv({ name: 'app', env: [{ name, value }] }, desired);
    expect(container.env).toEqual([
      { name, value },
      { name: 'OPENAI_API_KEY', value: 'placeholder' },
    ]);
    expect(warnings).toEqual(warns ? [`container "app" sets ${name} itself; Chaperone left it as is`] : []);
  });

  it('keeps a variable set from a Secret, without warning for API keys', () => {
    const fromSecret = { name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } };
    const { container, warnings } = applyAppEnv({ name: 'app', env: [fromSecret] }, desired);
    expect(container.env?.find((e) => e.name === 'OPENAI_API_KEY')).toEqual(fromSecret);
    expect(warnings).toEqual([]);
  });

  it('returns the very same container when nothing is missing', () => {
    const first = applyAppEnv({ name: 'app' }, desired).container;
    expect(applyAppEnv(first, desired).container).toBe(first);
  });
});
