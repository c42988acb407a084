// The app's request body, read whole before anything is sent (the model is in it) and bounded by
// the provider's maxRequestBytes: a declared length over the limit is refused without reading.
import type { IncomingMessage } from 'node:http';
import { RefusalError } from '../../../api/src/refusals.ts';

export interface ReadBody {
  body: Buffer | undefined;
  /** Bytes received, or the declared length when it alone exceeded the limit. */
  bytes: number;
  overLimit: boolean;
}

export function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<ReadBody> {
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve({ body: undefined, bytes: 0, overLimit: false });
  }
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > limit) {
    return Promise.resolve({ body: undefined, bytes: length, overLimit: true });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const timer = setTimeout(() => {
      cleanup();
      reject(new RefusalError('BAD_REQUEST', `the request body did not arrive within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > limit) {
        cleanup();
        resolve({ body: undefined, bytes, overLimit: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({
        body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes),
        bytes,
        overLimit: false,
      });
    };
    const onAbort = (): void => {
      cleanup();
      reject(new RefusalError('BAD_REQUEST', 'the app closed the connection before sending its whole body'));
    };
    function cleanup(): void {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
    }
    const onClose = (): void => {
      if (!req.complete) onAbort();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}
