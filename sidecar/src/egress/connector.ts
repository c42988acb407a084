// Connections to providers: the name is resolved once, every answer checked, and the socket dialled
// to a checked address with TLS servername (SNI and certificate check) = the host name. There is no
// second lookup for the TLS library to make, so a rebinding resolver cannot swap the address.
import { connect as netConnect, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { tls } from '../builtins.ts';
import { buildConnector, type Connector } from '../proxy/undici.ts';
import { resolveChecked, type AddressPolicy, type ResolvedAddress, type Resolver } from './resolver.ts';

export interface ConnectorOptions extends AddressPolicy {
  resolver: Resolver;
  /** PEM trust anchors (the provider's caBundle); the public roots when absent. */
  ca?: string | undefined;
  connectTimeoutMs: number;
  /** Observes each dial (tests assert the dialled address is the checked one). */
  onDial?: (host: string, address: ResolvedAddress) => void;
}

/**
 * The trust anchors as one secure context for all of a connector's connections. Given `ca`, Node
 * builds a context per connection, on the event loop: 0.17 ms for one CA, 4.5 ms for the public roots
 * plus a caBundle (the token endpoint's); a new provider connection took ~0.3 ms of CPU more. Node
 * does not throw here for any PEM text (unreadable certificates are left out, and the handshake fails).
 */
function trustAnchors(ca: string | undefined): { secureContext: SecureContext } {
  return { secureContext: tls.createSecureContext(ca === undefined ? {} : { ca }) };
}

/** An undici `connect` function for one provider's pool. */
export function checkedConnector(options: ConnectorOptions): Connector {
  const connectTls = buildConnector({
    ...trustAnchors(options.ca),
    timeout: options.connectTimeoutMs,
    allowH2: false,
    keepAlive: true,
    maxCachedSessions: 64,
  });
  return (opts, callback) => {
    const host = opts.hostname;
    const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
    resolveChecked(host, port, options.resolver, options, options.connectTimeoutMs).then(
      (addresses) => {
        const attempt = (i: number, lastError?: Error): void => {
          const address = addresses[i];
          if (!address) {
            callback(lastError ?? new Error(`no address of ${host} accepted a connection`), null);
            return;
          }
          options.onDial?.(host, address);
          connectTls({ ...opts, hostname: address.address, servername: host }, (err, socket) => {
            if (err) attempt(i + 1, err);
            else callback(null, socket);
          });
        };
        attempt(0);
      },
      (err: Error) => callback(err, null),
    );
  };
}

/** A plain TCP connection to a checked address of `host` (CONNECT tunnels: TLS is the app's). */
export async function dialChecked(host: string, port: number, options: ConnectorOptions): Promise<Socket> {
  const addresses = await resolveChecked(host, port, options.resolver, options, options.connectTimeoutMs);
  let lastError: Error | undefined;
  for (const address of addresses) {
    options.onDial?.(host, address);
    try {
      return await tcp(address.address, port, options.connectTimeoutMs);
    } catch (err) {
      lastError = err as Error;
    }
  }
  throw lastError ?? new Error(`no address of ${host} accepted a connection`);
}

function tcp(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${address}:${port} took over ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
