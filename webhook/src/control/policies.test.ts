import { describe, expect, it } from '@jest/globals';
import { PolicyStore } from './policies.ts';
import { desiredStatus } from './status.ts';

const provider = {
  name: 'openai',
  type: 'openai',
  endpoint: 'https://api.openai.com',
  credentials: { secretRef: { name: 'k', key: 'k' } },
};
const object = (generation: number, spec: unknown) => ({
  metadata: { name: 'p', namespace: 'team', uid: 'uid-1', generation },
  spec,
});

describe('PolicyStore', () => {
  it('accepts a valid generation with the defaults applied', () => {
    const store = new PolicyStore();
    expect(store.upsert(object(1, { providers: [provider] }))).toBe('team');
    const [accepted] = store.accepted('team');
    expect(accepted?.generation).toBe(1);
    expect(accepted?.spec.mode).toBe('Enforce');
    expect(store.accepted('other')).toEqual([]);
  });

  it('keeps the last good generation in force when a new one is invalid, and says why', () => {
    const store = new PolicyStore();
    store.upsert(object(1, { providers: [provider] }));
    store.upsert(object(2, { providers: [{ ...provider, endpoint: 'http://api.openai.com' }] }));
    expect(store.accepted('team').map((p) => p.generation)).toEqual([1]);
    const [state] = store.states();
    expect(state?.error).toMatch(/^spec\.providers\[0\]\.endpoint: endpoint must be an https:\/\/ URL$/m);
    const status = desiredStatus(state!, undefined, [], new Date(0));
    expect(status.conditions[0]).toMatchObject({ type: 'Accepted', status: 'False', reason: 'Invalid' });
    expect(status.conditions[1]).toMatchObject({ type: 'Ready', status: 'False', reason: 'Invalid' });
    expect(status.conditions[0]?.message).toMatch(/^generation 2 rejected, generation 1 stays in force: /);
    expect(status.providers).toBe('openai');
  });

  it('has nothing in force for a policy that never validated', () => {
    const store = new PolicyStore();
    store.upsert(object(1, { providers: [] }));
    expect(store.accepted('team')).toEqual([]);
    expect(desiredStatus(store.states()[0]!, undefined, [], new Date(0)).conditions[0]?.message).toMatch(
      /nothing in force/,
    );
  });

  it('forgets deleted policies', () => {
    const store = new PolicyStore();
    store.upsert(object(1, { providers: [provider] }));
    expect(store.remove(object(1, {}))).toBe('team');
    expect(store.states()).toEqual([]);
  });
});

describe('killSwitchEvents', () => {
  it('turns kill-switch transitions into Events, and nothing else', async () => {
    const { killSwitchEvents } = await import('./events.ts');
    const store = new PolicyStore();
    store.upsert(object(1, { providers: [provider] }));
    const before = store.accepted('team')[0]!.spec;
    store.upsert(object(2, { killSwitch: true, providers: [{ ...provider, killSwitch: true }] }));
    const after = store.accepted('team')[0]!.spec;
    expect(killSwitchEvents(before, after).map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Warning KillSwitchEngaged: kill switch engaged: every request under this policy is refused',
      'Warning KillSwitchEngaged: kill switch engaged for provider openai',
    ]);
    expect(killSwitchEvents(after, before).map((e) => e.reason)).toEqual([
      'KillSwitchReleased',
      'KillSwitchReleased',
    ]);
    expect(killSwitchEvents(before, before)).toEqual([]);
  });
});
