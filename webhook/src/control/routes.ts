// The sidecar-facing HTTP endpoints: the bundle stream and acknowledgements. Every request is
// authenticated with the sidecar's projected token; refusals carry a stable code.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CONTROL_HEADERS, CONTROL_PATHS } from '../../../api/src/bundle.ts';
import type { Logger } from '../log.ts';
import { ControlRefusal } from './refusals.ts';
import type { SidecarIdentity } from './tokens.ts';

export interface StreamHandlers {
  verify(token: string | undefined): Promise<SidecarIdentity>;
  /** Registers the response as the pod's stream and sends its first bundle. */
  openStream(identity: SidecarIdentity, response: Response): Promise<void>;
  ack(identity: SidecarIdentity, revision: string): void;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() || undefined : undefined;
}

async function authenticate(handlers: StreamHandlers, req: Request): Promise<SidecarIdentity> {
  const identity = await handlers.verify(bearer(req));
  const claimed = req.headers[CONTROL_HEADERS.pod];
  const actual = `${identity.namespace}/${identity.podName}`;
  if (claimed !== actual) {
    throw new ControlRefusal(
      'POD_MISMATCH',
      `${CONTROL_HEADERS.pod} is ${JSON.stringify(claimed ?? null)}, the token is for ${actual}`,
    );
  }
  return identity;
}

export function controlRoutes(handlers: StreamHandlers, logger: Logger): Router {
  const router = express.Router();

  router.get(CONTROL_PATHS.stream, async (req, res, next) => {
    try {
      const identity = await authenticate(handlers, req);
      await handlers.openStream(identity, res);
      logger.info({ namespace: identity.namespace, pod: identity.podName }, 'sidecar stream opened');
    } catch (err) {
      next(err);
    }
  });

  router.post(CONTROL_PATHS.ack, express.json({ limit: '4kb' }), async (req, res, next) => {
    try {
      const identity = await authenticate(handlers, req);
      const revision = (req.body as { revision?: unknown } | undefined)?.revision;
      if (typeof revision !== 'string' || revision === '') {
        res
          .status(400)
          .json({ code: 'BAD_REQUEST', reason: 'body must be {"revision": "<bundle revision>"}' });
        return;
      }
      handlers.ack(identity, revision);
      res.status(204).end();
    } catch (err) {
      next(err);
    }
  });

  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof ControlRefusal)) return next(err);
    logger.warn({ code: err.code, path: req.path }, `sidecar refused: ${err.message}`);
    if (!res.headersSent) res.status(err.status).json({ code: err.code, reason: err.message });
  });
  return router;
}
