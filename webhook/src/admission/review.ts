// admission.k8s.io/v1 AdmissionReview: the parts Chaperone reads and writes, and their validation.
import { BAD_REQUEST_REASONS, BadRequestError } from '../errors.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo?: { username?: string };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patchType?: 'JSONPatch';
  /** base64 of the JSON patch. */
  patch?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  request?: AdmissionRequest;
  response?: AdmissionResponse;
}

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notAReview(detail: string): BadRequestError {
  return new BadRequestError(
    BAD_REQUEST_REASONS.NOT_AN_ADMISSION_REVIEW,
    `not an ${ADMISSION_API_VERSION} AdmissionReview: ${detail}`,
  );
}

/** The request of a parsed JSON body, or BadRequestError naming what is wrong. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw notAReview('the body is not a JSON object');
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== 'AdmissionReview') {
    throw notAReview(`apiVersion/kind is ${String(body.apiVersion)}/${String(body.kind)}`);
  }
  const request = body.request;
  if (!isRecord(request)) throw notAReview('request is missing');
  if (typeof request.uid !== 'string' || request.uid === '') throw notAReview('request.uid is missing');
  if (typeof request.operation !== 'string' || !OPERATIONS.has(request.operation)) {
    throw notAReview('request.operation is missing or unknown');
  }
  const kind = request.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string') {
    throw notAReview('request.kind is missing');
  }
  if (!isRecord(request.resource) || typeof request.resource.resource !== 'string') {
    throw notAReview('request.resource is missing');
  }
  return request as unknown as AdmissionRequest;
}

export function reviewOf(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
