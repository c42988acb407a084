// One pino logger per process. Credentials never reach a line: the proxy never logs headers or
// queries, and these redact paths catch a credential should one be logged by mistake.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["proxy-authorization"]',
  'headers["x-goog-api-key"]',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["api-key"]',
  'apiKey',
  '*.apiKey',
  'credential',
  '*.credential',
  'token',
  '*.token',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go (tests capture them); stdout, asynchronously, by default. */
  destination?: DestinationStream;
  /** Pod context bound to every line. */
  base?: Record<string, string>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: 'chaperone-proxy',
      level: options.level ?? 'info',
      base: { ...options.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
