// The benchmark's provider: a lean HTTPS server answering a chat completion (JSON, ~350 bytes) or,
// when the request asks for `"stream": true`, an SSE stream whose first event is sent with the
// headers and the others EVENTS-1 at INTERVAL_MS apart (default 10 events, 1 ms; make bench uses
// 64 events 20 ms apart, a model's pace). Nothing is recorded, so memory stays flat under load.
// Usage: upstream.ts CERT KEY [EVENTS INTERVAL_MS]. Prints `ready <port>`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

const [certFile, keyFile, events, intervalMs] = process.argv.slice(2);
if (!certFile || !keyFile) throw new Error('usage: upstream.ts CERT KEY [EVENTS INTERVAL_MS]');

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello from the benchmark upstream.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});
const chunk = (i: number): string =>
  `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"token-${i} "}}]}\n\n`;
const STREAM_EVENTS = Number(events ?? 10);
const STREAM_INTERVAL_MS = Number(intervalMs ?? 1);
// Gateways re-serialise the request (`"stream": true`, `"stream":true`), so match either.
const STREAMING = /"stream"\s*:\s*true/;

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    if (!STREAMING.test(body)) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(completion),
      });
      res.end(completion);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunk(0));
    let i = 1;
    const timer = setInterval(() => {
      if (i < STREAM_EVENTS) res.write(chunk(i++));
      else {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }
    }, STREAM_INTERVAL_MS);
    res.on('close', () => clearInterval(timer));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`),
);
