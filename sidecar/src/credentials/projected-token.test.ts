import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeletTokenVolume, unsignedJwt } from '../../../test/helpers/projected-tokens.ts';
import { IdentityError } from './errors.ts';
import {
  ProjectedToken,
  ProjectedTokens,
  parseProjectedToken,
  tokenState,
  type StaleTokenReport,
} from './projected-token.ts';

const scratch = mkdtempSync(join(tmpdir(), 'chaperone-projected-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const T0 = 1_800_000_000_000;
const token = (aud: string, iat: number, exp: number, sub = 'system:serviceaccount:apps:default'): string =>
  unsignedJwt({ aud: [aud], iat: iat / 1000, exp: exp / 1000, sub });

describe('tokenState', () => {
  const times = { issuedAt: T0, expiresAt: T0 + 3_600_000 };
  it.each([
    ['just issued', T0, 'fresh'],
    ['at 80% (the kubelet refreshes now)', T0 + 2_880_000, 'fresh'],
    ['past 90% (the kubelet should have refreshed)', T0 + 3_240_000, 'stale'],
    ['within the expiry skew', T0 + 3_596_000, 'expired'],
    ['past exp', T0 + 3_700_000, 'expired'],
  ])('%s → %s', (_name, now, state) => {
    expect(tokenState(times, now)).toBe(state);
  });
});

describe('parseProjectedToken', () => {
  it.each([
    ['not a JWT', 'hello', /does not hold a JWT/],
    [
      'another audience',
      token('sts.amazonaws.com', T0, T0 + 1000),
      /not for audience api:\/\/AzureADTokenExchange/,
    ],
    ['no exp', unsignedJwt({ aud: 'api://AzureADTokenExchange' }), /has no exp claim/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseProjectedToken(text, 'api://AzureADTokenExchange', '/f')).toThrow(message);
  });

  it('reads iat and exp, trimming the newline', () => {
    const jwt = token('a', T0, T0 + 600_000);
    expect(parseProjectedToken(`${jwt}\n`, 'a', '/f')).toEqual({
      token: jwt,
      issuedAt: T0,
      expiresAt: T0 + 600_000,
    });
  });
});

describe('ProjectedToken', () => {
  it('follows a kubelet rotation (symlink swap) once the recheck interval has passed', async () => {
    const volume = new KubeletTokenVolume(join(scratch, 'rotate'));
    const first = token('gw', T0, T0 + 600_000);
    const second = token('gw', T0 + 480_000, T0 + 1_080_000);
    volume.write({ gw: first });
    let now = T0 + 1000;
    const source = new ProjectedToken('gw', volume.path('gw'), { recheckMs: 10_000, now: () => now });
    expect((await source.read()).token).toBe(first);
    volume.write({ gw: second });
    now += 5_000;
    expect((await source.read()).token).toBe(first); // cached within the recheck interval
    now += 5_000;
    expect((await source.read()).token).toBe(second);
  });

  it('never returns a token past exp, and says the kubelet stopped refreshing it', async () => {
    const volume = new KubeletTokenVolume(join(scratch, 'expired'));
    volume.write({ gw: token('gw', T0, T0 + 600_000) });
    let now = T0;
    const reports: StaleTokenReport[] = [];
    const source = new ProjectedToken('gw', volume.path('gw'), {
      recheckMs: 60_000,
      now: () => now,
      onStale: (r) => reports.push(r),
    });
    await source.read();
    now = T0 + 600_000;
    const err = await source.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe('TOKEN_EXPIRED');
    expect((err as IdentityError).message).toMatch(/kubelet has stopped refreshing it/);
    expect(reports).toEqual([
      { audience: 'gw', file: volume.path('gw'), state: 'expired', expiresAt: T0 + 600_000 },
    ]);
  });

  it('reports a stale token once, and keeps using it until exp', async () => {
    const volume = new KubeletTokenVolume(join(scratch, 'stale'));
    const jwt = token('gw', T0, T0 + 600_000);
    volume.write({ gw: jwt });
    const reports: StaleTokenReport[] = [];
    const source = new ProjectedToken('gw', volume.path('gw'), {
      now: () => T0 + 560_000,
      onStale: (r) => reports.push(r),
    });
    expect(await source.read()).toMatchObject({ token: jwt, state: 'stale' });
    expect(await source.check()).toBe('stale');
    expect(reports.map((r) => r.state)).toEqual(['stale']);
  });

  it('refuses an unreadable file with its error code', async () => {
    const source = new ProjectedToken('gw', join(scratch, 'missing'));
    await expect(source.read()).rejects.toMatchObject({ code: 'TOKEN_UNREADABLE', message: /ENOENT/ });
  });
});

describe('ProjectedTokens', () => {
  it('refuses an audience the pod has no token for, saying how to fix it', async () => {
    const tokens = new ProjectedTokens(new Map([['gw', join(scratch, 'x')]]));
    await expect(tokens.read('sts.amazonaws.com')).rejects.toMatchObject({
      code: 'NO_TOKEN_FOR_AUDIENCE',
      message: /restart the pod/,
    });
  });

  it('checks every file', async () => {
    const volume = new KubeletTokenVolume(join(scratch, 'check'));
    volume.write({ a: token('a', T0, T0 + 600_000), b: 'garbage' });
    const tokens = new ProjectedTokens(
      new Map([
        ['a', volume.path('a')],
        ['b', volume.path('b')],
      ]),
      { now: () => T0 },
    );
    expect(await tokens.check()).toEqual(
      new Map([
        ['a', 'fresh'],
        ['b', 'TOKEN_UNREADABLE'],
      ]),
    );
  });
});
