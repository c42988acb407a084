// Why the controller refuses a sidecar's stream or ack. Each code is distinct so an operator can
// tell an expired token from a forged one or a token replayed after its pod was deleted.

export const CONTROL_REFUSALS = {
  /** No `Authorization: Bearer` header. */
  TOKEN_MISSING: { status: 401, text: 'no bearer token was presented' },
  /** Not a compact JWS/JWT at all. */
  TOKEN_MALFORMED: { status: 401, text: 'the token is not a well-formed JWT' },
  /** Signed by a key the cluster's issuer does not publish (forged, or another cluster's). */
  TOKEN_SIGNATURE_INVALID: {
    status: 401,
    text: "the token's signature does not verify against the cluster's JWKS",
  },
  TOKEN_EXPIRED: { status: 401, text: 'the token has expired' },
  TOKEN_ISSUER_MISMATCH: {
    status: 401,
    text: "the token was not issued by this cluster's service-account issuer",
  },
  TOKEN_AUDIENCE_MISMATCH: {
    status: 401,
    text: 'the token was not issued for the chaperone.dev/controller audience',
  },
  /** A valid token that is not bound to a pod (e.g. a plain TokenRequest for the service account). */
  TOKEN_NOT_POD_BOUND: { status: 403, text: 'the token is not bound to a pod' },
  /** The bound pod no longer exists: the token is being replayed after the pod was deleted. */
  POD_NOT_FOUND: { status: 403, text: "the token's pod no longer exists" },
  /** A pod of the same name exists but it is not the one the token was issued for. */
  POD_UID_MISMATCH: { status: 403, text: "the token's pod was replaced (uid differs)" },
  /** The pod the sidecar says it runs in (x-chaperone-pod) is not the token's pod. */
  POD_MISMATCH: { status: 403, text: "the claimed pod is not the token's pod" },
  /** The controller could not verify the token right now (JWKS or apiserver unreachable). */
  VERIFICATION_UNAVAILABLE: { status: 503, text: 'the token could not be verified right now' },
  /** An ack names a revision this connection was never sent. */
  UNKNOWN_REVISION: { status: 409, text: 'the acknowledged revision was never sent to this pod' },
  /** An ack from a pod without an open stream. */
  NOT_CONNECTED: { status: 409, text: 'no open stream for this pod' },
} as const;

export type ControlRefusalCode = keyof typeof CONTROL_REFUSALS;

export class ControlRefusal extends Error {
  readonly code: ControlRefusalCode;
  readonly status: number;

  constructor(code: ControlRefusalCode, detail?: string) {
    const { status, text } = CONTROL_REFUSALS[code];
    super(detail ? `${text}: ${detail}` : text);
    this.name = 'ControlRefusal';
    this.code = code;
    this.status = status;
  }
}
