// The controller's HTTP surface: POST /mutate (AdmissionReview admission.k8s.io/v1), GET /healthz,
// GET /readyz. Malformed requests get a 400 with a stable reason, never a guess.
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { handleAdmissionRequest, type AdmissionDecision } from '../admission/handle.ts';
import type { AdmissionDeps } from '../admission/admit-pod.ts';
import { parseAdmissionReview, reviewOf, type AdmissionRequest } from '../admission/review.ts';
import { BAD_REQUEST_REASONS, BadRequestError, ChaperoneError, ERROR_CODES } from '../errors.ts';
import type { Logger } from '../log.ts';

export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface AppOptions {
  deps: AdmissionDeps;
  logger: Logger;
  maxBodyBytes?: number;
  /** Readiness beyond "the process serves": e.g. the namespace cache has synced. */
  isReady?: () => boolean;
  /** Further routes served beside /mutate (the sidecars' policy stream). */
  routers?: Router[];
  /** Server-side handling time of every answered AdmissionReview (benchmark, metrics). */
  onAdmission?: (durationMs: number, decision: AdmissionDecision) => void;
}

interface ErrorBody {
  code: string;
  reason?: string;
  message: string;
}

function sendError(res: Response, status: number, body: ErrorBody): void {
  res.status(status).json(body);
}

function podLabel(request: AdmissionRequest): string | undefined {
  if (request.name) return request.name;
  const metadata = (request.object as { metadata?: { name?: string; generateName?: string } } | undefined)
    ?.metadata;
  return metadata?.name ?? (metadata?.generateName ? `${metadata.generateName}*` : undefined);
}

export function createApp(options: AppOptions): Express {
  const { deps, logger } = options;
  const isReady = options.isReady ?? (() => true);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    if (isReady()) res.type('text/plain').send('ok');
    else res.status(503).type('text/plain').send('not ready');
  });

  const requireJson = (req: Request, _res: Response, next: NextFunction): void => {
    if (!req.headers['content-type'] || !req.is('application/json')) {
      next(
        new BadRequestError(
          BAD_REQUEST_REASONS.WRONG_CONTENT_TYPE,
          `Content-Type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`,
        ),
      );
      return;
    }
    next();
  };
  const rawBody = express.raw({
    type: 'application/json',
    limit: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  });

  app.post('/mutate', requireJson, rawBody, (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const body = req.body as Buffer | undefined;
    if (!Buffer.isBuffer(body) || body.toString('utf8').trim() === '') {
      next(new BadRequestError(BAD_REQUEST_REASONS.EMPTY_BODY, 'the request body is empty'));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      next(
        new BadRequestError(
          BAD_REQUEST_REASONS.MALFORMED_JSON,
          `the body is not JSON: ${(err as Error).message}`,
        ),
      );
      return;
    }
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(parsed);
    } catch (err) {
      next(err);
      return;
    }
    const log = logger.child({
      uid: request.uid,
      namespace: request.namespace,
      pod: podLabel(request),
      operation: request.operation,
      dryRun: request.dryRun === true,
    });
    handleAdmissionRequest(request, deps).then(
      ({ response, decision }) => {
        res.json(reviewOf(response));
        const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
        log.info(
          {
            result: decision.result,
            reason: decision.reason,
            patchOperations: decision.patchOperations,
            warnings: decision.warnings,
            durationMs,
          },
          'admission',
        );
        options.onAdmission?.(durationMs, decision);
      },
      (err: unknown) => {
        log.error({ err }, 'admission failed');
        next(err);
      },
    );
  });
  app.all('/mutate', (_req, res) => {
    sendError(res, 405, { code: 'METHOD_NOT_ALLOWED', message: 'POST an AdmissionReview to /mutate' });
  });
  for (const router of options.routers ?? []) app.use(router);

  app.use((_req, res) => {
    sendError(res, 404, {
      code: 'NOT_FOUND',
      message: 'the controller serves /mutate, /healthz and /readyz',
    });
  });

  // Express recognises a 4-argument function as the error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof BadRequestError) {
      logger.warn({ reason: err.reason }, err.message);
      sendError(res, 400, { code: err.code, reason: err.reason, message: err.message });
      return;
    }
    if (err instanceof ChaperoneError) {
      sendError(res, 500, { code: err.code, message: err.message });
      return;
    }
    const type = (err as { type?: string } | undefined)?.type;
    if (type === 'entity.too.large') {
      const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
      logger.warn({ limit }, 'request body too large');
      sendError(res, 413, {
        code: ERROR_CODES.PAYLOAD_TOO_LARGE,
        message: `the request body exceeds ${limit} bytes`,
      });
      return;
    }
    const status = (err as { status?: number } | undefined)?.status;
    if (status !== undefined && status >= 400 && status < 500) {
      sendError(res, 400, {
        code: ERROR_CODES.BAD_REQUEST,
        reason: BAD_REQUEST_REASONS.UNREADABLE_BODY,
        message: (err as Error).message,
      });
      return;
    }
    logger.error({ err }, 'unexpected error');
    sendError(res, 500, { code: 'INTERNAL', message: 'internal error' });
  });
  return app;
}
