import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { resolveSettings, defaultInjectOptions } from './settings.ts';
import { buildTokenVolume, tokenFileName, tokenFiles } from './token-volume.ts';

describe('tokenFileName', () => {
  it.each([
    ['chaperone.dev/controller', 'controller'],
    ['sts.amazonaws.com', /^sts\.amazonaws\.com-[0-9a-f]{8}$/],
    ['api://AzureADTokenExchange', /^azureadtokenexchange-[0-9a-f]{8}$/],
    ['https://iam.googleapis.com/projects/1/x', /^iam\.googleapis\.com-projects-1-x-[0-9a-f]{8}$/],
    ['///', /^audience-[0-9a-f]{8}$/],
  ])('%s → %s', (audience, expected) => {
    if (typeof expected === 'string') expect(tokenFileName(audience)).toBe(expected);
    else expect(tokenFileName(audience)).toMatch(expected);
  });

  it('keeps audiences that sanitise alike apart', () => {
    expect(tokenFileName('a:b')).not.toBe(tokenFileName('a/b'));
  });
});

describe('buildTokenVolume', () => {
  const pod = (annotations: Record<string, string>): V1Pod => ({
    metadata: { annotations },
    spec: { containers: [] },
  });

  it('projects one token per audience, controller first, with the configured lifetime', () => {
    const { settings } = resolveSettings(
      pod({ 'chaperone.dev/token-audiences': 'sts.amazonaws.com, chaperone.dev/controller' }),
      defaultInjectOptions({ tokenAudiences: ['vault'], tokenExpirationSeconds: 900 }),
    );
    const volume = buildTokenVolume(settings);
    const sources = volume.projected?.sources?.map((s) => s.serviceAccountToken);
    expect(volume.name).toBe('chaperone-token');
    expect(sources?.map((s) => s?.audience)).toEqual([
      'chaperone.dev/controller',
      'vault',
      'sts.amazonaws.com',
    ]);
    expect(sources?.every((s) => s?.expirationSeconds === 900)).toBe(true);
    expect(sources?.[0]?.path).toBe('controller');
    expect(tokenFiles(settings)).toEqual({
      'chaperone.dev/controller': '/var/run/secrets/chaperone.dev/tokens/controller',
      vault: `/var/run/secrets/chaperone.dev/tokens/${tokenFileName('vault')}`,
      'sts.amazonaws.com': `/var/run/secrets/chaperone.dev/tokens/${tokenFileName('sts.amazonaws.com')}`,
    });
  });
});
