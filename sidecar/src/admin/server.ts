// :15020 — admin. /healthz: the process serves; /readyz: a policy is loaded (fail closed until
// then, so a native sidecar holds the app back); /metrics: Prometheus text; /status: JSON of the
// policy in force, its providers and their breakers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from './metrics.ts';

export interface AdminSources {
  metrics: Metrics;
  ready(): boolean;
  status(): unknown;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

export function adminHandler(sources: AdminSources): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        res,
        405,
        'application/json',
        json({ code: 'METHOD_NOT_ALLOWED', reason: 'admin endpoints are read-only' }),
      );
      return;
    }
    switch (path) {
      case '/healthz':
        send(res, 200, 'text/plain', 'ok\n');
        return;
      case '/readyz':
        if (sources.ready()) send(res, 200, 'text/plain', 'ready\n');
        else
          send(
            res,
            503,
            'application/json',
            json({ code: 'POLICY_NOT_LOADED', reason: 'no policy is loaded yet: all egress is refused' }),
          );
        return;
      case '/metrics':
        sources.metrics.registry.metrics().then(
          (text) => send(res, 200, sources.metrics.registry.contentType, text),
          (err: Error) => send(res, 500, 'text/plain', `metrics failed: ${err.message}\n`),
        );
        return;
      case '/status':
        send(res, 200, 'application/json', json(sources.status()));
        return;
      default:
        send(res, 404, 'application/json', json({ code: 'NOT_FOUND', reason: `no admin endpoint ${path}` }));
    }
  };
}
