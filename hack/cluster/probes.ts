// Readiness probes: plain HTTP(S) GETs against the components, authenticated with the admin
// client certificate where the apiserver needs one.
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TlsClient {
  ca?: string;
  cert?: string;
  key?: string;
  /** Only for the controller-manager's self-signed health endpoint on loopback. */
  insecure?: boolean;
}

export interface Reply {
  status: number;
  body: string;
}

export function get(url: string, tls: TlsClient = {}, timeoutMs = 2000): Promise<Reply> {
  const isHttps = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const options = isHttps
      ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure, timeout: timeoutMs }
      : { timeout: timeoutMs };
    const req = (isHttps ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `check` until it returns true. Gives up when `deadline` passes or `abort` settles first
 * (a component that exits while we wait), so a start never hangs.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  deadline: number,
  abort: Promise<string>,
): Promise<void> {
  let lastError = '';
  let aborted: string | undefined;
  void abort.then((reason) => (aborted = reason));
  while (Date.now() < deadline) {
    if (aborted !== undefined) throw new Error(`${what}: ${aborted}`);
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not ready before the deadline${lastError ? ` (last error: ${lastError})` : ''}`);
}
