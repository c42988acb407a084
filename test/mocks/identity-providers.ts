// AI provider endpoints that accept only what workload identity yields, on one local HTTPS server:
// Azure OpenAI and Vertex AI take bearer tokens the token services issued (and not expired), Bedrock
// takes requests whose SigV4 signature verifies independently (sigv4-verify.ts) with temporary
// credentials STS issued, and an internal gateway takes an RFC 8693 token plus an identity
// assertion (a projected token, verified like the token services do) and records traffic tags.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mockPki } from './pki.ts';
import { verifySigV4 } from './sigv4-verify.ts';
import type { Service, SubjectVerifier, TokenServices } from './token-services.ts';

export interface ProviderCall {
  api: 'azure' | 'bedrock' | 'vertex' | 'gateway' | 'unknown';
  ok: boolean;
  reason?: string;
  headers: IncomingHttpHeaders;
}

export interface IdentityProviders {
  port: number;
  calls: ProviderCall[];
  close(): Promise<void>;
}

export interface IdentityProvidersOptions {
  services: TokenServices;
  verify: SubjectVerifier;
  bedrockRegion: string;
  assertion: { header: string; audience: string };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const chat = (text: string): unknown => ({
  id: 'chatcmpl-identity',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});

export async function startIdentityProviders(options: IdentityProvidersOptions): Promise<IdentityProviders> {
  const pki = await mockPki();
  const calls: ProviderCall[] = [];
  const bearer = (headers: IncomingHttpHeaders, service: Service): string | undefined => {
    // Azure OpenAI also takes a key in api-key (the bench's Secret-key baseline uses one).
    const presented = headers.authorization?.replace(/^Bearer /, '') ?? headers['api-key'];
    const issued = options.services.tokens.get(typeof presented === 'string' ? presented : '');
    if (!issued) return 'the bearer token was not issued by the token service';
    if (issued.service !== service) return `the bearer token was issued by ${issued.service}, not ${service}`;
    if (Date.now() >= issued.expiresAt) return 'the bearer token expired';
    return undefined;
  };

  const server: Server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const url = req.url ?? '';
        const path = url.split('?')[0] ?? '';
        const call: ProviderCall = { api: 'unknown', ok: false, headers: req.headers };
        calls.push(call);
        const refuse = (status: number, reason: string): void => {
          call.reason = reason;
          json(res, status, { error: { message: reason } });
        };
        if (path.startsWith('/openai/deployments/')) {
          call.api = 'azure';
          const why = bearer(req.headers, 'azure');
          if (why) return refuse(401, why);
          call.ok = true;
          return json(res, 200, chat('hello from azure'));
        }
        if (path.startsWith('/model/')) {
          call.api = 'bedrock';
          const result = verifySigV4(
            { method: req.method ?? '', url, headers: req.headers, body },
            {
              region: options.bedrockRegion,
              service: 'bedrock',
              lookup: (id) => options.services.aws.get(id),
            },
          );
          if (!result.ok) return refuse(403, result.reason);
          call.ok = true;
          return json(res, 200, {
            id: 'msg_bedrock',
            type: 'message',
            role: 'assistant',
            content: [{ type: 'text', text: 'hello from bedrock' }],
            stop_reason: 'end_turn',
            usage: { input_tokens: 3, output_tokens: 3 },
          });
        }
        if (path.startsWith('/v1/projects/')) {
          call.api = 'vertex';
          const why = bearer(req.headers, 'gcp-iam');
          if (why) return refuse(401, why);
          // A provider that echoes the credential it was sent in an error (some do, for bad keys).
          if (path.endsWith(':echoCredential'))
            return refuse(400, `cannot use ${String(req.headers.authorization)} for this model`);
          call.ok = true;
          return json(res, 200, {
            candidates: [{ content: { role: 'model', parts: [{ text: 'hello from vertex' }] } }],
            usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 3, totalTokenCount: 6 },
          });
        }
        if (path.startsWith('/gw/')) {
          call.api = 'gateway';
          const why = bearer(req.headers, 'oauth2');
          if (why) return refuse(401, why);
          const assertion = req.headers[options.assertion.header];
          try {
            await options.verify(typeof assertion === 'string' ? assertion : '', options.assertion.audience);
          } catch (err) {
            return refuse(401, `identity assertion: ${(err as Error).message}`);
          }
          call.ok = true;
          return json(res, 200, chat('hello from the gateway'));
        }
        refuse(404, `no API at ${path}`);
      })();
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
