import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { connect } from 'node:tls';
import { parseClientHello } from './sni.ts';

let server: Server;
let port: number;
let captured: (bytes: Buffer) => void = () => undefined;

beforeAll(async () => {
  server = createServer((socket) => {
    socket.once('data', (data: Buffer) => {
      captured(data);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The real ClientHello Node's TLS stack sends for `servername`. */
function clientHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    captured = resolve;
    const socket = connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}) });
    socket.on('error', () => undefined);
  });
}

describe('parseClientHello', () => {
  it('reads the server name of a real ClientHello', async () => {
    expect(parseClientHello(await clientHello('api.openai.com'))).toEqual({
      state: 'complete',
      sni: 'api.openai.com',
    });
  });

  it('reports a ClientHello without SNI', async () => {
    expect(parseClientHello(await clientHello(undefined))).toEqual({ state: 'complete', sni: null });
  });

  it('waits for a ClientHello split across segments', async () => {
    const hello = await clientHello('api.anthropic.com');
    for (const cut of [1, 5, 9, 40, hello.length - 1]) {
      expect(parseClientHello(hello.subarray(0, cut))).toEqual({ state: 'incomplete' });
    }
    expect(parseClientHello(hello)).toEqual({ state: 'complete', sni: 'api.anthropic.com' });
  });

  it('reassembles a ClientHello split across TLS records', async () => {
    const hello = await clientHello('api.openai.com');
    const body = hello.subarray(5);
    const record = (part: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, part.length >> 8, part.length & 0xff]), part]);
    const split = Buffer.concat([record(body.subarray(0, 50)), record(body.subarray(50))]);
    expect(parseClientHello(split)).toEqual({ state: 'complete', sni: 'api.openai.com' });
  });

  it.each([
    ['plaintext HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n'), 'not-tls'],
    ['an alert record first', Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]), 'not-tls'],
    ['a ServerHello', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]), 'malformed'],
    ['a zero-length record', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x00]), 'malformed'],
    [
      'an SSLv2-looking version',
      Buffer.from([0x16, 0x02, 0x00, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00]),
      'malformed',
    ],
  ])('refuses %s', (_name, bytes, state) => {
    expect(parseClientHello(bytes).state).toBe(state);
  });
});
