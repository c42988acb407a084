import { describe, expect, it, jest } from '@jest/globals';
import { newExchange } from './exchange.ts';
import { ActiveExchanges, type ActiveExchange } from './context.ts';

const entry = (via: 'endpoint' | 'connect' = 'endpoint'): ActiveExchange => ({
  exchange: newExchange(via, 'POST'),
  facts: {} as ActiveExchange['facts'],
  cut: jest.fn(),
});

describe('ActiveExchanges', () => {
  it('holds an exchange from add until the function add returned is called', () => {
    const active = new ActiveExchanges();
    const [a, b, c] = [entry(), entry('connect'), entry()];
    const doneA = active.add(a);
    const doneB = active.add(b);
    active.add(c);
    expect([...active]).toEqual([a, b, c]);
    expect(active.size).toBe(3);
    doneA();
    expect([...active]).toEqual([b, c]);
    doneB();
    doneB(); // twice: still out, nothing else removed
    expect([...active]).toEqual([c]);
    expect(active.size).toBe(1);
  });

  it('lets an exchange be taken out while the set is being walked (a cut ends its exchange)', () => {
    const active = new ActiveExchanges();
    const entries = [entry(), entry(), entry()];
    const dones = entries.map((e) => active.add(e));
    const seen: ActiveExchange[] = [];
    for (const e of active) {
      seen.push(e);
      dones[entries.indexOf(e)]!();
    }
    expect(seen).toEqual(entries);
    expect([...active]).toEqual([]);
  });
});
