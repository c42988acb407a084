import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger } from './log.ts';

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      text += chunk.toString();
      callback();
    },
  });
  return { logger: createLogger({ destination }), text: () => text };
}

describe('the logger', () => {
  it.each([
    [{ headers: { authorization: 'Bearer sk-1', 'x-api-key': 'sk-2', 'api-key': 'sk-3', cookie: 'sk-4' } }],
    [{ req: { headers: { authorization: 'Bearer sk-1', 'x-goog-api-key': 'sk-2' } } }],
    [
      {
        authorization: 'Bearer sk-1',
        apiKey: 'sk-2',
        key: 'sk-3',
        token: 'sk-4',
        credential: 'sk-5',
        secret: 'sk-6',
      },
    ],
  ])('redacts credentials logged by mistake: %j', (fields) => {
    const { logger, text } = capture();
    logger.child({ component: 'audit' }).info(fields, 'oops');
    expect(text()).toContain('[redacted]');
    expect(text()).not.toMatch(/sk-\d/);
  });
});
