import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import type { AuditRecord } from './audit.ts';
import { auditWriter, createLogger } from './log.ts';

function capture(options: Parameters<typeof createLogger>[0] = {}): {
  logger: ReturnType<typeof createLogger>;
  text: () => string;
} {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      text += chunk.toString();
      callback();
    },
  });
  return { logger: createLogger({ ...options, destination }), text: () => text };
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

const RECORD: AuditRecord = {
  audit: true,
  requestId: '5f0c6e2a-8d1b-4c3e-9a7f-2b6d4e8c1a90',
  via: 'endpoint',
  result: 'allow',
  code: null,
  reason: null,
  'chaperone.provider': 'openai',
  'http.response.status_code': 200,
  durationMs: 0.734,
  'url.path': '/v1/chat/completions',
};

describe('the audit writer', () => {
  const sameTime = (text: string): string => text.replace(/"time":\d+/g, '"time":0');

  it.each<[string, 'info' | 'warn', AuditRecord, string]>([
    ['a request', 'info', RECORD, 'request'],
    ['a refusal', 'warn', { ...RECORD, result: 'deny', code: 'EGRESS_DENIED', reason: 'no rule' }, 'refused'],
    ['an empty record', 'info', {}, 'request'],
    [
      'strings that need escaping',
      'info',
      { reason: 'quote " backslash \\ newline \n tab \t nul \u0000 line sep \u2028 é 🙂' },
      'm "quoted"\n',
    ],
    ['numbers', 'info', { a: 0, b: -1.5, c: 1e21, d: Number.NaN, e: 123456789 }, 'request'],
    ['a key pino redacts', 'warn', { ...RECORD, token: 'sk-1', authorization: 'Bearer sk-2' }, 'oops'],
  ])('writes the line pino would: %s', (_name, level, record, msg) => {
    const base = { namespace: 'team-a', pod: 'app-1' };
    const viaPino = capture({ base });
    viaPino.logger.child({ component: 'audit' })[level](record, msg);
    const viaWriter = capture({ base });
    auditWriter(viaWriter.logger.child({ component: 'audit' }))(level, record, msg);
    expect(viaWriter.text()).not.toBe('');
    expect(sameTime(viaWriter.text())).toBe(sameTime(viaPino.text()));
    expect(viaWriter.text()).not.toMatch(/sk-\d/);
  });

  it('writes nothing below the logger level', () => {
    const { logger, text } = capture({ level: 'warn' });
    const write = auditWriter(logger.child({ component: 'audit' }));
    write('info', RECORD, 'request');
    expect(text()).toBe('');
    write('warn', RECORD, 'refused');
    expect(JSON.parse(text())).toMatchObject({ level: 40, component: 'audit', msg: 'refused' });
  });
});
