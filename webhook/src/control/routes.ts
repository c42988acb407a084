// The sidecar-facing HTTP endpoints: the bundle stream and acknowledgements. Every request is
// authenticated with the sidecar's projected token; refusals carry a stable code.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  CONTROL_HEADERS,
  CONTROL_PATHS,
  FINDING_ACTIONS,
  FINDING_DIRECTIONS,
  FINDING_GUARDS,
  type SidecarReport,
} from '../../../api/src/bundle.ts';
import type { Logger } from '../log.ts';
import { ControlRefusal } from './refusals.ts';
import type { SidecarIdentity } from './tokens.ts';

export interface StreamHandlers {
  verify(token: string | undefined): Promise<SidecarIdentity>;
  /** Registers the response as the pod's stream and sends its first bundle. */
  openStream(identity: SidecarIdentity, response: Response): Promise<void>;
  ack(identity: SidecarIdentity, revision: string): void;
  report(identity: SidecarIdentity, report: SidecarReport): void;
}

const BREAKER_STATES = new Set(['closed', 'open', 'halfOpen']);
const GUARDS = new Set<string>(FINDING_GUARDS);
const ACTIONS = new Set<string>(FINDING_ACTIONS);
const DIRECTIONS = new Set<string>(FINDING_DIRECTIONS);

const count = (n: unknown): boolean => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 1e9;
const where = (r: { policy?: unknown; provider?: unknown }): boolean =>
  typeof r.policy === 'string' &&
  r.policy.length <= 253 &&
  (r.provider === undefined || (typeof r.provider === 'string' && r.provider.length <= 63));

/** Findings are optional (older sidecars); each names a known guard, action and direction. */
function wellFormedFindings(findings: unknown): boolean {
  if (findings === undefined) return true;
  if (!Array.isArray(findings) || findings.length > 256) return false;
  return findings.every(
    (f: Partial<NonNullable<SidecarReport['findings']>[number]>) =>
      where(f) &&
      GUARDS.has(f.guard as string) &&
      ACTIONS.has(f.action as string) &&
      DIRECTIONS.has(f.direction as string) &&
      typeof f.kind === 'string' &&
      /^[a-zA-Z][a-zA-Z-]{0,63}$/.test(f.kind) &&
      count(f.count),
  );
}

/** A well-formed, bounded report, or undefined. */
export function parseReport(body: unknown): SidecarReport | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { breakers, refusals, findings } = body as Partial<SidecarReport>;
  if (
    typeof breakers !== 'object' ||
    breakers === null ||
    !Array.isArray(refusals) ||
    refusals.length > 256
  ) {
    return undefined;
  }
  const states = Object.entries(breakers);
  if (states.length > 64 || !states.every(([, v]) => BREAKER_STATES.has(v as string))) return undefined;
  const wellFormed = refusals.every(
    (r: Partial<SidecarReport['refusals'][number]>) =>
      where(r) && typeof r.code === 'string' && /^[A-Z_]{1,64}$/.test(r.code) && count(r.count),
  );
  if (!wellFormed || !wellFormedFindings(findings)) return undefined;
  return { breakers, refusals, ...(findings && { findings }) };
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

  router.post(CONTROL_PATHS.report, express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const identity = await authenticate(handlers, req);
      const report = parseReport(req.body);
      if (!report) {
        res
          .status(400)
          .json({ code: 'BAD_REQUEST', reason: 'body must be a SidecarReport {breakers, refusals}' });
        return;
      }
      handlers.report(identity, report);
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
