// The floor the sidecar is compared with: a minimal node:http + undici Pool pass-through, the
// ~20 lines DESIGN.md describes. No policy, no logging, no credential. Prints `ready <port>`.
// Usage: passthrough.js ORIGIN CA [PORT]
// Plain JavaScript so that, like the compiled sidecar, it runs without type stripping.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [origin, caFile, port = '0'] = process.argv.slice(2);
if (!origin || !caFile) throw new Error('usage: passthrough.js ORIGIN CA [PORT]');
const pool = new Pool(origin, { connections: 32, connect: { ca: readFileSync(caFile, 'utf8') } });
const HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
/** @param {Record<string, string | string[] | undefined>} headers */
const strip = (headers) =>
  Object.fromEntries(Object.entries(headers).filter(([k, v]) => v !== undefined && !HOP.has(k)));

const server = createServer((req, res) => {
  pool
    .request({
      path: req.url ?? '/',
      method: /** @type {'POST'} */ (req.method),
      headers: strip(req.headers),
      body: req,
    })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, strip(headers));
      body.pipe(res);
    })
    .catch(() => {
      res.writeHead(502);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`ready ${typeof address === 'object' && address ? address.port : 0}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
