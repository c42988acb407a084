import { jest } from '@jest/globals';

// Per-project `testTimeout` is not applied by Jest; set the integration tier's ceiling here.
jest.setTimeout(60_000);
