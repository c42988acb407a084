import { describe, expect, it } from '@jest/globals';
import { guardPolicy } from '../../../test/helpers/guards.ts';
import { badArguments, checkRequestTools, checkResponseToolCall } from './tools.ts';

const rules = {
  toolArguments: {
    refund: {
      order: { pattern: /^ord_\d+$/, required: true },
      currency: { oneOf: ['EUR', 'USD'] },
      note: { maxLength: 20 },
    },
  },
};
const policy = guardPolicy({ guards: { tools: { allowed: ['refund', 'lookup'], action: 'Block' } } }, rules);

describe('badArguments', () => {
  it.each<[string, unknown, string[]]>([
    ['valid arguments', { order: 'ord_1', currency: 'EUR', note: 'late' }, []],
    ['valid arguments as a JSON string', '{"order":"ord_1"}', []],
    ['a missing required argument', { currency: 'EUR' }, ['refund.order missing']],
    [
      'a value outside the list',
      { order: 'ord_1', currency: 'BTC' },
      ['refund.currency not an allowed value'],
    ],
    ['a pattern mismatch', { order: '1; DROP TABLE' }, ['refund.order does not match its pattern']],
    ['a string too long', { order: 'ord_1', note: 'x'.repeat(21) }, ['refund.note longer than 20']],
    ['a non-string where a pattern applies', { order: 7 }, ['refund.order not a string']],
    ['unreadable arguments', '{"order": ', ['refund(arguments unreadable)']],
  ])('%s', (_name, args, expected) => {
    expect(badArguments(policy, { name: 'refund', args })).toEqual(expected);
  });

  it('has nothing to say about tools without rules', () => {
    expect(badArguments(policy, { name: 'lookup', args: { anything: true } })).toEqual([]);
  });
});

describe('checkRequestTools', () => {
  it('allows what the allowlist names', () => {
    expect(checkRequestTools(policy, ['refund', 'lookup'], []).decision.result).toBe('allow');
  });

  it('names every tool it does not allow, offered or called', () => {
    const { decision, findings } = checkRequestTools(
      policy,
      ['refund', 'shell'],
      [{ name: 'rm_rf', args: '{}' }],
    );
    expect(decision).toEqual({
      result: 'deny',
      code: 'GUARD_BLOCKED',
      reason: 'tools shell, rm_rf not allowed',
      rule: 'spec.guards.tools.allowed',
    });
    expect(findings?.notAllowed).toEqual(['shell', 'rm_rf']);
  });

  it('refuses calls in the history whose arguments break the rules', () => {
    const { decision } = checkRequestTools(policy, [], [{ name: 'refund', args: '{"order":"nope"}' }]);
    expect(decision.reason).toBe('tool arguments refused: refund.order does not match its pattern');
  });

  it('allows any tool without an allowlist, and checks nothing when Off', () => {
    expect(checkRequestTools(guardPolicy(), ['anything'], []).decision.result).toBe('allow');
    const off = guardPolicy({ guards: { tools: { allowed: ['a'], action: 'Off' } } });
    const { decision, findings } = checkRequestTools(off, ['b'], []);
    expect(decision.result).toBe('allow');
    expect(findings?.notAllowed).toEqual(['b']);
  });
});

describe('checkResponseToolCall', () => {
  it('counts calls against maxCallsPerResponse', () => {
    const limited = guardPolicy({ guards: { tools: { maxCallsPerResponse: 2, action: 'Block' } } });
    expect(checkResponseToolCall(limited, { name: 'x', args: undefined }, 2).result).toBe('allow');
    expect(checkResponseToolCall(limited, { name: 'x', args: undefined }, 3)).toEqual({
      result: 'deny',
      code: 'GUARD_BLOCKED',
      reason: '3 tool calls in one response exceed 2',
      rule: 'spec.guards.tools.maxCallsPerResponse',
    });
  });
});
