import { describe, expect, it, jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Dispatcher } from 'undici';
import { newExchange } from './exchange.ts';
import { RelayHandler } from './relay.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const fakeResponse = (): ServerResponse =>
  Object.assign(new EventEmitter(), { writableFinished: true }) as unknown as ServerResponse;

const fakeController = (abort = jest.fn()): Dispatcher.DispatchController =>
  ({ abort, pause: jest.fn(), resume: jest.fn() }) as unknown as Dispatcher.DispatchController;

/** A handler whose exchange is only reachable through it; WeakRefs tell whether it is still alive. */
function handlerWithExchange(): { handler: RelayHandler; res: WeakRef<object>; exchange: WeakRef<object> } {
  const res = fakeResponse();
  const exchange = newExchange('endpoint', 'POST');
  const handler = new RelayHandler(exchange, res, ['sk-secret'], undefined);
  handler.onRequestStart(fakeController());
  return { handler, res: new WeakRef(res), exchange: new WeakRef(exchange) };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('RelayHandler.release', () => {
  it('keeps nothing of its exchange alive once released, while something still holds the handler', async () => {
    const held = handlerWithExchange();
    const released = handlerWithExchange();
    released.handler.release();
    await nextTurn(); // a WeakRef keeps its target alive until the job that made it ends
    gc();
    expect(released.res.deref()).toBeUndefined();
    expect(released.exchange.deref()).toBeUndefined();
    // The control: the same handler, not released, still holds them.
    expect(held.res.deref()).toBeDefined();
    expect(held.exchange.deref()).toBeDefined();
    expect(held.handler).toBeDefined();
  });

  it('ignores undici callbacks that arrive after the release, and aborts a late start', () => {
    const { handler } = handlerWithExchange();
    handler.release();
    const abort = jest.fn();
    const controller = fakeController(abort);
    expect(() => {
      handler.onResponseStart(controller, 200, { 'content-type': 'application/json' });
      handler.onResponseData(controller, Buffer.from('{}'));
      handler.onResponseEnd();
      handler.onResponseError(controller, new Error('late'));
    }).not.toThrow();
    handler.onRequestStart(controller);
    expect(abort).toHaveBeenCalled();
    expect(handler.guard).toBeUndefined();
  });
});
