// The HTTPS server around the app. setSecureContext swaps the certificate for new connections;
// established ones finish with the one they negotiated.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import type { TlsMaterial } from './tls.ts';

export interface HttpsHandle {
  server: Server;
  host: string;
  port: number;
  setTls(material: TlsMaterial): void;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops the rest. */
  close(graceMs?: number): Promise<void>;
}

export async function startHttpsServer(
  app: RequestListener,
  tls: TlsMaterial,
  host: string,
  port: number,
): Promise<HttpsHandle> {
  const server = createServer(
    {
      cert: tls.cert,
      key: tls.key,
      minVersion: 'TLSv1.2',
      // The apiserver keeps connections to webhooks open; bound everything else.
      keepAliveTimeout: 60_000,
      headersTimeout: 10_000,
      requestTimeout: 15_000,
    },
    app,
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    host: address.address,
    port: address.port,
    setTls(material) {
      server.setSecureContext({ cert: material.cert, key: material.key, minVersion: 'TLSv1.2' });
    },
    async close(graceMs = 5_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
