// Verifies a sidecar's projected service-account token: signature, issuer, audience and expiry
// with jose against the cluster's JWKS, then that the bound pod still exists with the same uid.
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { CONTROLLER_TOKEN_AUDIENCE } from '../../../api/src/names.ts';
import { ControlRefusal } from './refusals.ts';

export interface SidecarIdentity {
  namespace: string;
  podName: string;
  podUid: string;
  podLabels: Readonly<Record<string, string>>;
  serviceAccount: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export interface LivePod {
  uid: string;
  labels: Readonly<Record<string, string>>;
}

type KeyResolver = JWTVerifyGetKey;

/**
 * A JWKS that is refetched when a token names an unknown key id (the issuer rotated its keys),
 * at most once per `cooldownMs` so forged key ids cannot make the controller hammer the apiserver.
 */
export function refreshingJwks(fetchJwks: () => Promise<JSONWebKeySet>, cooldownMs = 10_000): KeyResolver {
  let current: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = 0;
  const load = async (): Promise<ReturnType<typeof createLocalJWKSet>> => {
    fetchedAt = Date.now();
    current = createLocalJWKSet(await fetchJwks());
    return current;
  };
  return async (header, token) => {
    const keys = current ?? (await load());
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - fetchedAt < cooldownMs) throw err;
      return (await load())(header, token);
    }
  };
}

interface KubernetesClaims {
  namespace?: string;
  pod?: { name?: string; uid?: string };
  serviceaccount?: { name?: string };
}

export interface TokenVerifierDeps {
  issuer: string;
  keys: KeyResolver;
  /** The live pod, or undefined when it does not exist. Rejects when it cannot be read. */
  readPod(namespace: string, name: string): Promise<LivePod | undefined>;
  audience?: string;
}

function refusalFor(err: unknown): ControlRefusal {
  if (err instanceof errors.JWTExpired) return new ControlRefusal('TOKEN_EXPIRED');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new ControlRefusal('TOKEN_AUDIENCE_MISMATCH');
    if (err.claim === 'iss') return new ControlRefusal('TOKEN_ISSUER_MISMATCH');
    return new ControlRefusal('TOKEN_MALFORMED', `claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey) {
    return new ControlRefusal('TOKEN_SIGNATURE_INVALID');
  }
  if (
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JOSEAlgNotAllowed
  ) {
    return new ControlRefusal('TOKEN_MALFORMED');
  }
  if (err instanceof errors.JOSEError) return new ControlRefusal('TOKEN_MALFORMED', err.code);
  return new ControlRefusal('VERIFICATION_UNAVAILABLE', (err as Error).message);
}

export function tokenVerifier(
  deps: TokenVerifierDeps,
): (token: string | undefined) => Promise<SidecarIdentity> {
  const audience = deps.audience ?? CONTROLLER_TOKEN_AUDIENCE;
  return async (token) => {
    if (!token) throw new ControlRefusal('TOKEN_MISSING');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, deps.keys, {
        issuer: deps.issuer,
        audience,
        algorithms: ['RS256', 'ES256', 'ES384', 'RS384', 'RS512', 'PS256'],
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw refusalFor(err);
    }
    const claims = payload['kubernetes.io'] as KubernetesClaims | undefined;
    const namespace = claims?.namespace;
    const podName = claims?.pod?.name;
    const podUid = claims?.pod?.uid;
    if (!namespace || !podName || !podUid) throw new ControlRefusal('TOKEN_NOT_POD_BOUND');

    let live: LivePod | undefined;
    try {
      live = await deps.readPod(namespace, podName);
    } catch (err) {
      throw new ControlRefusal('VERIFICATION_UNAVAILABLE', (err as Error).message);
    }
    if (live === undefined) throw new ControlRefusal('POD_NOT_FOUND', `${namespace}/${podName}`);
    if (live.uid !== podUid) throw new ControlRefusal('POD_UID_MISMATCH', `${namespace}/${podName}`);
    return {
      namespace,
      podName,
      podUid,
      podLabels: live.labels,
      serviceAccount: claims.serviceaccount?.name ?? '',
      expiresAt: payload.exp!,
    };
  };
}
