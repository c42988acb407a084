// The sidecar runs in every pod, so what it loads is a budget (docs/sidecar.md, "Memory"): its
// whole static module graph is checked for the packages and imports that cost resident memory
// without serving a request.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TRACE = fileURLToPath(new URL('../../test/helpers/module-trace.ts', import.meta.url));

interface Load {
  how: 'import' | 'require';
  specifier: string;
  url: string;
  parent: string;
}

function loads(): Load[] {
  const run = spawnSync(process.execPath, ['--import', TRACE, MAIN, '--version'], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return run.stderr
    .split('\n')
    .filter((line) => line.startsWith('module '))
    .map((line) => {
      const [, how, specifier, url, parent] = line.split(' ');
      return { how: how as Load['how'], specifier: specifier!, url: url!, parent: parent ?? '' };
    });
}

describe('the sidecar module graph', () => {
  let graph: Load[];
  beforeAll(() => {
    graph = loads();
  });

  it('is traced (the check below can see what it forbids)', () => {
    expect(graph.some((l) => l.url.includes('/node_modules/pino/'))).toBe(true);
    expect(graph.some((l) => l.url.includes('/sidecar/src/proxy/relay.ts'))).toBe(true);
  });

  it.each([
    ['typebox', 'the schema builder: the sidecar reads api/src/policy/vocabulary.ts'],
    ['yaml', 'the policy file is parsed in the validator child'],
    ['@bufbuild/cel', 'CEL rules run in the validator child'],
    ['@kubernetes/client-node', 'the controller talks to the apiserver, the sidecar never does'],
    ['@opentelemetry/api', "prom-client's CPU metric pulls it in: admin/prom.ts registers its own"],
    ['jose', 'workload identity is imported only when the sidecar has identity tokens'],
  ])('does not load %s (%s)', (pkg) => {
    const inside = `/node_modules/${pkg}/`;
    const importers = graph.filter((l) => l.url.includes(inside) && !l.parent.includes(inside));
    expect(importers.map((l) => l.parent)).toEqual([]);
  });

  it('loads undici and prom-client file by file, not their index (fetch, WebSocket, push gateway…)', () => {
    const indexes = graph.filter((l) => l.specifier === 'undici' || l.specifier === 'prom-client');
    expect(indexes.map((l) => l.parent)).toEqual([]);
  });

  it('never imports node:http, node:https, node:tls or node:http2 as an ES module', () => {
    const heavy = graph.filter(
      (l) => l.how === 'import' && /^(node:)?(http|https|tls|http2)$/.test(l.specifier),
    );
    expect(heavy.map((l) => `${l.specifier} from ${l.parent}`)).toEqual([]);
  });
});
