// :15001, CONNECT tunnels (HTTPS_PROXY). TLS stays end to end between app and provider, so the
// sidecar judges what it can see: the CONNECT host and port against the policy, every address the
// host resolves to, and the ClientHello's SNI, which must name the CONNECT host. Paths, models and
// credentials are invisible here: base-URL mode is where the full policy applies.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RefusalError } from '../../../api/src/refusals.ts';
import { dialChecked } from '../egress/connector.ts';
import { normalizeHost, parseAuthority, printable } from '../egress/host.ts';
import { egressRefusal } from '../egress/refuse.ts';
import { parseClientHello, tlsAlert, type ClientHello } from '../egress/sni.ts';
import { decide, type RequestFacts } from '../policy/decide.ts';
import type { ProxyContext } from './context.ts';
import { asRefusal, markRefused, newExchange, type Exchange } from './exchange.ts';
import { refusalOf } from './pipeline.ts';
import { reserveCall } from './guards.ts';
import { refusalOf as guardRefusal } from '../guards/policy.ts';
import type { Reservation } from '../guards/rate.ts';

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  429: 'Too Many Requests',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** An HTTP refusal written on a raw socket (before the tunnel is established), then closed. */
export function refuseOnSocket(socket: Duplex, exchange: Exchange, refusal: RefusalError): void {
  markRefused(exchange, refusal);
  const body = refusal.toBody(exchange.id);
  body.policy ??= exchange.policy;
  body.provider ??= exchange.provider?.name ?? null;
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? 'Refused'}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `x-chaperone-request-id: ${exchange.id}\r\nx-chaperone-refusal: ${refusal.code}\r\n` +
      `connection: close\r\n\r\n${text}`,
  );
}

export function handleConnect(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const exchange = newExchange('connect', 'CONNECT');
  socket.on('error', () => socket.destroy());
  serve(ctx, req, socket as Socket, head, exchange)
    .catch((err: unknown) => {
      if (!socket.destroyed) refuseOnSocket(socket, exchange, asRefusal(err));
      else markRefused(exchange, asRefusal(err));
    })
    .finally(() => ctx.observer.finished(exchange));
}

async function serve(
  ctx: ProxyContext,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  exchange: Exchange,
): Promise<void> {
  const loaded = ctx.policies.current();
  const policy = loaded?.policy ?? null;
  exchange.policy = policy?.name ?? null;
  const destination = parseAuthority(req.url ?? '');
  if (!destination.ok) return refuseOnSocket(socket, exchange, destination.error);
  const { host, port } = destination.value;
  exchange.host = host;
  exchange.port = port;
  const hostHeader = req.headers.host;
  if (hostHeader !== undefined) {
    const parsed = parseAuthority(hostHeader, port);
    if (!parsed.ok || parsed.value.host !== host || parsed.value.port !== port)
      return refuseOnSocket(
        socket,
        exchange,
        egressRefusal(
          'host-mismatch',
          `the Host header "${printable(hostHeader)}" differs from CONNECT ${host}:${port}`,
        ),
      );
  }
  const facts: RequestFacts = { via: 'connect', host, port, usage: ctx.usage };
  const decision = decide(policy, facts);
  exchange.provider = decision.provider;
  if (decision.result === 'deny')
    return refuseOnSocket(socket, exchange, refusalOf(decision, exchange.policy));
  exchange.result = decision.result;
  if (decision.result === 'report') {
    exchange.code = decision.code;
    exchange.reason = decision.reason;
    exchange.rule = decision.rule;
  }
  const provider = decision.provider;
  let reservation: Reservation | undefined;
  if (provider && policy) {
    const reserved = reserveCall(ctx.usage, loaded?.guards, policy.mode, provider, 0);
    if (reserved.decision.result === 'deny')
      return refuseOnSocket(
        socket,
        exchange,
        guardRefusal(reserved.decision, { policy: exchange.policy, provider: provider.name }),
      );
    reservation = reserved.reservation;
    facts.usage = undefined; // counted: re-judging the open tunnel must not see its own reservation
  }
  const dial = (): Promise<Socket> =>
    dialChecked(host, port, {
      resolver: ctx.resolver,
      allowed: provider?.allowedCidrs,
      selfPorts: ctx.selfPorts,
      connectTimeoutMs: ctx.timeouts.connectMs,
      policy: exchange.policy,
      provider: provider?.name ?? null,
      ...(ctx.onDial ? { onDial: ctx.onDial } : {}),
    });
  let upstream: Socket;
  try {
    upstream = provider ? ((await ctx.upstreams.breaker(provider).fire(dial)) as Socket) : await dial();
  } catch (err) {
    const refusal =
      (err as { code?: string }).code === 'EOPENBREAKER'
        ? new RefusalError('CIRCUIT_OPEN', `the circuit breaker of provider ${provider?.name} is open`, {
            rule: `${provider?.rule}.circuitBreaker`,
          })
        : asRefusal(err);
    if (reservation) ctx.usage.release(reservation);
    return refuseOnSocket(socket, exchange, refusal);
  }
  // The tunnel's tokens are encrypted: it counts as one request.
  if (reservation) ctx.usage.settle(reservation, 0);
  upstream.on('error', () => upstream.destroy());
  if (socket.destroyed) {
    upstream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  const sentBefore = socket.bytesWritten;
  exchange.status = 200;

  const hello = await readClientHello(socket, head, ctx.timeouts.clientMs);
  const refusal = checkHello(hello.result, host);
  if (refusal) {
    upstream.destroy();
    markRefused(exchange, refusal);
    exchange.status = 200;
    if (hello.result.state === 'not-tls') refuseOnSocket(socket, exchange, refusal);
    else socket.end(tlsAlert(hello.result.state === 'complete' ? 'unrecognized_name' : 'access_denied'));
    return;
  }
  // A policy applied while the tunnel was being set up (a kill switch) applies to it too.
  const now = decide(ctx.policies.current()?.policy ?? null, facts);
  if (now.result === 'deny') {
    upstream.destroy();
    socket.destroy();
    markRefused(exchange, refusalOf(now, exchange.policy));
    exchange.status = 200;
    return;
  }
  await pipeTunnel(ctx, exchange, facts, socket, upstream, hello.bytes, sentBefore);
}

function checkHello(hello: ClientHello, host: string): RefusalError | undefined {
  switch (hello.state) {
    case 'not-tls':
      return egressRefusal('sni', `the tunnel to ${host} does not carry TLS: plaintext is not tunnelled`);
    case 'incomplete':
      return egressRefusal('sni', `no complete TLS ClientHello arrived on the tunnel to ${host}`);
    case 'malformed':
      return egressRefusal(
        'sni',
        `the TLS ClientHello on the tunnel to ${host} is malformed (${hello.reason})`,
      );
    case 'complete': {
      if (hello.sni === null)
        return egressRefusal('sni', `the TLS ClientHello names no server (SNI) for ${host}`);
      const sni = normalizeHost(hello.sni);
      if (!sni.ok || sni.value !== host)
        return egressRefusal(
          'sni',
          `the TLS server name "${printable(hello.sni)}" does not match the CONNECT host ${host}`,
        );
      return undefined;
    }
  }
}

function readClientHello(
  socket: Socket,
  head: Buffer,
  timeoutMs: number,
): Promise<{ result: ClientHello; bytes: Buffer }> {
  return new Promise((resolve) => {
    let bytes = head;
    let settled = false;
    const finish = (result: ClientHello): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve({ result, bytes });
    };
    const evaluate = (): void => {
      const result = parseClientHello(bytes);
      if (result.state !== 'incomplete') finish(result);
    };
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      evaluate();
    };
    const onClose = (): void => finish({ state: 'incomplete' });
    const timer = setTimeout(() => finish({ state: 'incomplete' }), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    if (bytes.length > 0) evaluate();
  });
}

function pipeTunnel(
  ctx: ProxyContext,
  exchange: Exchange,
  facts: RequestFacts,
  client: Socket,
  upstream: Socket,
  hello: Buffer,
  sentBefore: number,
): Promise<void> {
  return new Promise((resolve) => {
    const done = ctx.active.add({
      exchange,
      facts,
      cut: (refusal) => {
        exchange.code = refusal.code;
        exchange.reason = refusal.reason;
        exchange.rule = refusal.rule;
        exchange.interrupted = refusal.reason;
        client.destroy();
        upstream.destroy();
      },
    });
    let open = 2;
    const closed = (): void => {
      client.destroy();
      upstream.destroy();
      if (--open > 0) return;
      done();
      exchange.requestBytes = upstream.bytesWritten;
      exchange.responseBytes = client.bytesWritten - sentBefore;
      resolve();
    };
    client.once('close', closed);
    upstream.once('close', closed);
    for (const s of [client, upstream]) s.setTimeout(ctx.timeouts.idleMs, () => s.destroy());
    upstream.write(hello);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
}
