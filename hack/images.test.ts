// The Dockerfile cannot be built here (no container engine), so its invariants are checked as text:
// each target runs an entry point that the build emits and package.json names (the controller tsc's
// output, the sidecar its bundle), the runtime is distroless and runs as the non-root uid the chart
// and the webhook assume, only the controller gets node_modules (production dependencies only), and
// the build context holds what the build copies.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SIDECAR_DEFAULTS } from '../api/src/injection.ts';
import { SIDECAR_NODE_FLAGS } from '../sidecar/src/runtime/node-flags.ts';
import { REPO_ROOT } from './cluster/launcher.ts';

const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'));
const pkg = JSON.parse(read('package.json')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  type: string;
};
const build = JSON.parse(read('tsconfig.build.json')) as {
  include: string[];
  compilerOptions: { outDir: string };
};
const values = parse(read('charts/chaperone/values.yaml')) as {
  controller: { podSecurityContext: { runAsUser: number; runAsGroup: number } };
};

interface Stage {
  from: string;
  name: string;
  lines: string[];
}

function stages(text: string): Stage[] {
  const args = Object.fromEntries(
    [...text.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]] as [string, string]),
  );
  const result: Stage[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const from = /^FROM (\S+) AS (\S+)$/.exec(line);
    if (from) {
      const image = from[1]!.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? name);
      result.push({ from: image, name: from[2]!, lines: [] });
    } else if (line.trim() !== '' && !line.startsWith('#')) result.at(-1)?.lines.push(line);
  }
  return result;
}

const all = stages(dockerfile);
const stage = (name: string): Stage => {
  const found = all.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
/** The base chain of a stage, down to an image. */
const lineage = (name: string): Stage[] => {
  const chain = [stage(name)];
  while (all.some((s) => s.name === chain.at(-1)!.from)) chain.push(stage(chain.at(-1)!.from));
  return chain;
};

describe('Dockerfile', () => {
  it('chaperone-controller runs the compiled entry point package.json names', () => {
    const entry = stage('chaperone-controller').lines.find((l) => l.startsWith('ENTRYPOINT'));
    const script = 'dist/webhook/src/main.js';
    expect(JSON.parse(entry!.slice('ENTRYPOINT'.length))).toEqual(['/nodejs/bin/node', script]);
    expect(pkg.bin['chaperone-controller']).toBe(script);
    // tsc (outDir dist, rootDir .) emits webhook/src/main.ts as that file.
    expect(build.compilerOptions.outDir).toBe('dist');
    expect(build.include).toContain('webhook/src');
    expect(existsSync(join(REPO_ROOT, 'webhook', 'src', 'main.ts'))).toBe(true);
    expect(stage('chaperone-controller').lines).toEqual(
      expect.arrayContaining([
        'COPY --from=build /src/dist/webhook ./dist/webhook',
        'COPY --from=build /src/dist/api ./dist/api',
      ]),
    );
  });

  it('chaperone-proxy runs the sidecar bundle package.json names, with its validator, native function and chunks', () => {
    const entry = stage('chaperone-proxy').lines.find((l) => l.startsWith('ENTRYPOINT'));
    const script = 'dist/sidecar/src/main.js';
    expect(JSON.parse(entry!.slice('ENTRYPOINT'.length))).toEqual([
      '/nodejs/bin/node',
      ...SIDECAR_NODE_FLAGS,
      script,
    ]);
    expect(pkg.bin['chaperone-proxy']).toBe(script);
    // `npm run build` bundles after tsc: hack/bundle-sidecar.ts writes main.js over tsc's, the
    // validator beside it and chunks/ (sidecar/test/bundle.test.ts runs what it writes), then
    // hack/build-native.ts compiles page-trim.node beside them, with the compiler the stage installs.
    expect(pkg.scripts.build).toBe(
      'tsc -p tsconfig.build.json && node hack/bundle-sidecar.ts && node hack/build-native.ts',
    );
    expect(stage('build').lines.some((l) => /apt-get install .*\bgcc\b/.test(l))).toBe(true);
    expect(stage('build').lines).toContain("RUN npm run build && find dist -name '*.map' -delete");
    expect(stage('chaperone-proxy').lines).toEqual(
      expect.arrayContaining([
        'COPY --from=build /src/dist/sidecar/src/main.js /src/dist/sidecar/src/validate-child.js /src/dist/sidecar/src/page-trim.node ./dist/sidecar/src/',
        'COPY --from=build /src/dist/sidecar/src/chunks ./dist/sidecar/src/chunks',
      ]),
    );
  });

  it.each(['chaperone-controller', 'chaperone-proxy'])(
    '%s is distroless Node 24, non-root with the uid the chart and the webhook use',
    (target) => {
      const chain = lineage(target);
      const base = chain.at(-1)!.from;
      expect(base).toMatch(/^gcr\.io\/distroless\/nodejs24-debian\d+:nonroot$/);
      const user = chain.flatMap((s) => s.lines).find((l) => l.startsWith('USER '));
      expect(user).toBe(`USER ${SIDECAR_DEFAULTS.runAsUser}:${SIDECAR_DEFAULTS.runAsGroup}`);
      expect(values.controller.podSecurityContext).toMatchObject({
        runAsUser: SIDECAR_DEFAULTS.runAsUser,
        runAsGroup: SIDECAR_DEFAULTS.runAsGroup,
      });
    },
  );

  it('gives the controller production dependencies only, the sidecar none (its bundle holds them)', () => {
    expect(pkg.type).toBe('module');
    expect(stage('runtime').lines).toContain('COPY --from=deps /app/package.json ./');
    expect(stage('chaperone-controller').lines).toContain(
      'COPY --from=deps /app/node_modules ./node_modules',
    );
    expect(
      lineage('chaperone-proxy').flatMap((s) => s.lines.filter((l) => l.includes('node_modules'))),
    ).toEqual([]);
    expect(stage('deps').lines.some((l) => /npm ci --omit=dev\b/.test(l))).toBe(true);
    expect(stage('build').from).toBe('node:24-slim');
  });

  it('has a build context (.dockerignore allow-list) with every file the build copies', () => {
    expect(dockerignore[0]).toBe('*');
    const copied = stage('build')
      .lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from'))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    for (const path of copied) {
      expect(existsSync(join(REPO_ROOT, path))).toBe(true);
      expect(dockerignore.some((rule) => rule === `!${path}` || rule === `!${path}/`)).toBe(true);
    }
  });
});
