// Local HTTPS stand-ins for the cloud token services, speaking their wire formats: Microsoft Entra
// ID's v2.0 token endpoint (client-credentials grant with a federated client assertion), AWS STS
// AssumeRoleWithWebIdentity (query API, XML answer), Google STS (RFC 8693) and IAM Credentials
// generateAccessToken, and a plain RFC 8693 endpoint. Nothing is issued before the presented
// projected token verifies — signature, issuer, audience, expiry and subject — through `verify`
// (in the integration tests: against the real apiserver's JWKS).
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mockPki } from './pki.ts';

/** Verifies a projected token for `audience`; rejects with the reason when it does not verify. */
export type SubjectVerifier = (token: string, audience: string) => Promise<unknown>;

export interface TokenServicesOptions {
  verify: SubjectVerifier;
  azure: { tenantID: string; clientID: string; audience: string };
  aws: { roleARN: string; audience: string };
  gcp: { audience: string; workloadIdentityProvider: string; serviceAccountEmail: string };
  oauth2: { audience: string; resource: string };
  /** Lifetime of what is issued, seconds (default 3600). */
  lifetimeSeconds?: number;
}

export type Service = 'azure' | 'aws' | 'gcp-sts' | 'gcp-iam' | 'oauth2';

export interface IssuedToken {
  service: Service;
  expiresAt: number;
}

export interface IssuedAwsCredential {
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

export interface TokenServices {
  port: number;
  /** Bearer tokens issued, by value. */
  tokens: Map<string, IssuedToken>;
  /** AWS temporary credentials issued, by access key id. */
  aws: Map<string, IssuedAwsCredential>;
  /** Requests per service, and refusals with their reason. */
  calls: Record<Service, number>;
  refusals: { service: Service; reason: string }[];
  /** Answer the next requests with this status (outage simulation). */
  failNext(status: number, times: number): void;
  close(): Promise<void>;
}

const secret = (prefix: string, bytes = 24): string => `${prefix}${randomBytes(bytes).toString('base64url')}`;

function readForm(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startTokenServices(options: TokenServicesOptions): Promise<TokenServices> {
  const pki = await mockPki();
  const lifetime = (options.lifetimeSeconds ?? 3600) * 1000;
  const tokens = new Map<string, IssuedToken>();
  const aws = new Map<string, IssuedAwsCredential>();
  const calls: Record<Service, number> = { azure: 0, aws: 0, 'gcp-sts': 0, 'gcp-iam': 0, oauth2: 0 };
  const refusals: TokenServices['refusals'] = [];
  const outage = { status: 0, times: 0 };

  const issue = (service: Service): { token: string; expiresAt: number } => {
    const token = secret(`${service}-`);
    const expiresAt = Date.now() + lifetime;
    tokens.set(token, { service, expiresAt });
    return { token, expiresAt };
  };
  const verified = async (
    service: Service,
    token: string | null,
    audience: string,
  ): Promise<string | undefined> => {
    try {
      await options.verify(token ?? '', audience);
      return undefined;
    } catch (err) {
      const reason = (err as Error).message;
      refusals.push({ service, reason });
      return reason;
    }
  };

  async function azure(res: ServerResponse, path: string, form: URLSearchParams): Promise<void> {
    const { tenantID, clientID, audience } = options.azure;
    if (path !== `/${tenantID}/oauth2/v2.0/token`)
      return json(res, 400, {
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant not found.`,
      });
    if (
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
    )
      return json(res, 400, { error: 'unsupported_grant_type', error_description: 'AADSTS70003' });
    if (form.get('client_id') !== clientID) {
      refusals.push({ service: 'azure', reason: `unknown client ${form.get('client_id')}` });
      return json(res, 400, {
        error: 'unauthorized_client',
        error_description: `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`,
      });
    }
    const why = await verified('azure', form.get('client_assertion'), audience);
    if (why)
      return json(res, 401, {
        error: 'invalid_client',
        error_description: `AADSTS700211: No matching federated identity record found for presented assertion. ${why}`,
      });
    const { token } = issue('azure');
    json(res, 200, {
      token_type: 'Bearer',
      expires_in: lifetime / 1000,
      ext_expires_in: lifetime / 1000,
      access_token: token,
    });
  }

  async function awsSts(res: ServerResponse, form: URLSearchParams): Promise<void> {
    const fault = (status: number, code: string, message: string): void =>
      xml(
        res,
        status,
        `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
      );
    if (form.get('Action') !== 'AssumeRoleWithWebIdentity' || form.get('Version') !== '2011-06-15')
      return fault(400, 'InvalidAction', 'Could not find operation');
    if (form.get('RoleArn') !== options.aws.roleARN)
      return fault(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
    const why = await verified('aws', form.get('WebIdentityToken'), options.aws.audience);
    if (why)
      return fault(
        400,
        'InvalidIdentityToken',
        'Couldn&apos;t retrieve verification key from your identity provider',
      );
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const credential = {
      secretAccessKey: secret('', 30),
      sessionToken: secret('IQoJb3JpZ2luX2VjE', 60),
      expiresAt: Date.now() + lifetime,
    };
    aws.set(accessKeyId, credential);
    xml(
      res,
      200,
      `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>mock</SubjectFromWebIdentityToken>
    <Audience>${options.aws.audience}</Audience>
    <AssumedRoleUser><Arn>${options.aws.roleARN.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${form.get('RoleSessionName')}</Arn><AssumedRoleId>AROA:${form.get('RoleSessionName')}</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>${credential.sessionToken}</SessionToken>
      <SecretAccessKey>${credential.secretAccessKey}</SecretAccessKey>
      <Expiration>${new Date(credential.expiresAt).toISOString()}</Expiration>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
    </Credentials>
    <Provider>mock</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`,
    );
  }

  async function gcpSts(res: ServerResponse, form: URLSearchParams): Promise<void> {
    const expected = `//iam.googleapis.com/${options.gcp.workloadIdentityProvider}`;
    if (
      form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange' ||
      form.get('subject_token_type') !== 'urn:ietf:params:oauth:token-type:jwt'
    )
      return json(res, 400, {
        error: 'invalid_request',
        error_description: 'bad grant or subject_token_type',
      });
    if (form.get('audience') !== expected)
      return json(res, 400, {
        error: 'invalid_target',
        error_description: 'The target service indicated by the "audience" parameters is invalid.',
      });
    const why = await verified('gcp-sts', form.get('subject_token'), options.gcp.audience);
    if (why)
      return json(res, 400, {
        error: 'invalid_grant',
        error_description: 'The audience in ID Token does not match the expected audience.',
      });
    const { token } = issue('gcp-sts');
    json(res, 200, {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: lifetime / 1000,
    });
  }

  function gcpIam(res: ServerResponse, path: string, authorization: string | undefined, body: string): void {
    const federated = tokens.get((authorization ?? '').replace(/^Bearer /, ''));
    if (!federated || federated.service !== 'gcp-sts')
      return json(res, 401, {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      });
    const email = decodeURIComponent(
      /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(path)?.[1] ?? '',
    );
    if (email !== options.gcp.serviceAccountEmail)
      return json(res, 403, {
        error: {
          code: 403,
          message: `Permission 'iam.serviceAccounts.getAccessToken' denied`,
          status: 'PERMISSION_DENIED',
        },
      });
    const request = JSON.parse(body) as { scope?: string[] };
    if (!Array.isArray(request.scope) || request.scope.length === 0)
      return json(res, 400, {
        error: { code: 400, message: 'scope is required', status: 'INVALID_ARGUMENT' },
      });
    const { token, expiresAt } = issue('gcp-iam');
    json(res, 200, { accessToken: token, expireTime: new Date(expiresAt).toISOString() });
  }

  async function oauth2(res: ServerResponse, form: URLSearchParams): Promise<void> {
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange')
      return json(res, 400, { error: 'unsupported_grant_type' });
    if (form.get('audience') !== options.oauth2.resource) return json(res, 400, { error: 'invalid_target' });
    const why = await verified('oauth2', form.get('subject_token'), options.oauth2.audience);
    if (why)
      return json(res, 400, {
        error: 'invalid_grant',
        error_description: 'the subject token did not verify',
      });
    const { token } = issue('oauth2');
    json(res, 200, {
      access_token: token,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: lifetime / 1000,
    });
  }

  const server: Server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0] ?? '';
      const host = (req.headers.host ?? '').split(':')[0] ?? '';
      const service: Service = path.endsWith(':generateAccessToken')
        ? 'gcp-iam'
        : path === '/v1/token'
          ? 'gcp-sts'
          : path.endsWith('/oauth2/v2.0/token')
            ? 'azure'
            : host.startsWith('sts.')
              ? 'aws'
              : 'oauth2';
      calls[service]++;
      if (outage.times > 0) {
        outage.times--;
        return json(res, outage.status, { error: 'temporarily_unavailable' });
      }
      if (req.method !== 'POST') return json(res, 405, { error: 'invalid_request' });
      const form = readForm(body);
      const handled: Promise<void> | void =
        service === 'azure'
          ? azure(res, path, form)
          : service === 'aws'
            ? awsSts(res, form)
            : service === 'gcp-sts'
              ? gcpSts(res, form)
              : service === 'gcp-iam'
                ? gcpIam(res, path, req.headers.authorization, body)
                : oauth2(res, form);
      void Promise.resolve(handled).catch(() => json(res, 500, { error: 'server_error' }));
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
    tokens,
    aws,
    calls,
    refusals,
    failNext(status, times) {
      outage.status = status;
      outage.times = times;
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
