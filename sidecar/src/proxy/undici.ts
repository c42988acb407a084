// undici's Pool and connector, loaded on their own: the package index also loads fetch, WebSocket,
// caches, mocks and a second llhttp build, ~12 MB of resident memory a sidecar in every pod never
// uses. The public types still come from the package.
import { createRequire } from 'node:module';
import type { Pool as PoolClass, buildConnector as BuildConnector } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof PoolClass;
export type Pool = PoolClass;
export const buildConnector = require('undici/lib/core/connect.js') as typeof BuildConnector;
export type Connector = BuildConnector.connector;
