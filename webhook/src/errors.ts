// One base error with a stable `code`; callers branch on the code, never on message text. Every
// code is listed in docs/webhook.md (a unit test checks that).

export const ERROR_CODES = {
  /** A chaperone.dev/* pod annotation holds a value that would produce a broken pod: admission denied. */
  INVALID_OVERRIDE: 'INVALID_OVERRIDE',
  /** Another container in the pod binds a port the sidecar needs: admission denied. */
  PORT_CONFLICT: 'PORT_CONFLICT',
  /** The HTTP request to /mutate is not a usable AdmissionReview: 400. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The request body exceeds --max-body-bytes: 413. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The namespace's labels could not be read: admission fails (failurePolicy decides). */
  NAMESPACE_LOOKUP_FAILED: 'NAMESPACE_LOOKUP_FAILED',
  /** The policies selecting the pod could not be read: admission fails. */
  POLICY_LOOKUP_FAILED: 'POLICY_LOOKUP_FAILED',
  /** A certificate/key pair could not be loaded. */
  TLS_INVALID: 'TLS_INVALID',
  /** A flag or environment variable is missing or malformed: the controller does not start. */
  CONFIG_INVALID: 'CONFIG_INVALID',
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class ChaperoneError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChaperoneError';
    this.code = code;
  }
}

/** A pod annotation value that is refused; `annotation` names the key. */
export class InvalidOverrideError extends ChaperoneError {
  readonly annotation: string;

  constructor(annotation: string, message: string) {
    super(ERROR_CODES.INVALID_OVERRIDE, `${annotation}: ${message}`);
    this.name = 'InvalidOverrideError';
    this.annotation = annotation;
  }
}

export class PortConflictError extends ChaperoneError {
  constructor(message: string) {
    super(ERROR_CODES.PORT_CONFLICT, message);
    this.name = 'PortConflictError';
  }
}

/** Reasons a request to /mutate is refused with 400 before any admission decision. */
export const BAD_REQUEST_REASONS = {
  WRONG_CONTENT_TYPE: 'WRONG_CONTENT_TYPE',
  EMPTY_BODY: 'EMPTY_BODY',
  MALFORMED_JSON: 'MALFORMED_JSON',
  NOT_AN_ADMISSION_REVIEW: 'NOT_AN_ADMISSION_REVIEW',
  UNREADABLE_BODY: 'UNREADABLE_BODY',
} as const;
export type BadRequestReason = (typeof BAD_REQUEST_REASONS)[keyof typeof BAD_REQUEST_REASONS];

export class BadRequestError extends ChaperoneError {
  readonly reason: BadRequestReason;

  constructor(reason: BadRequestReason, message: string) {
    super(ERROR_CODES.BAD_REQUEST, message);
    this.name = 'BadRequestError';
    this.reason = reason;
  }
}

export class ConfigError extends ChaperoneError {
  constructor(message: string) {
    super(ERROR_CODES.CONFIG_INVALID, message);
    this.name = 'ConfigError';
  }
}
