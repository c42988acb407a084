// One pino logger per process. Admission logs carry the decision, never the pod object: env values
// can hold secrets. The redact paths catch tokens and credentials should one be logged by mistake.
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'key',
  '*.key',
  'password',
  '*.password',
];

export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'chaperone-controller',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
