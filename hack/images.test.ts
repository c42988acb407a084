// The Dockerfile cannot be built here (no container engine), so its invariants are checked as text:
// each target runs an entry point that the TypeScript build emits and package.json names, the
// runtime is distroless and runs as the non-root uid the chart and the webhook assume, runtime
// images get production dependencies only, and the build context holds what the build copies.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SIDECAR_DEFAULTS } from '../api/src/injection.ts';
import { REPO_ROOT } from './cluster/launcher.ts';

const read = (file: string): string => readFileSync(join(REPO_ROOT, file), 'utf8');
const dockerfile = read('Dockerfile');
const dockerignore = read('.dockerignore')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'));
const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; type: string };
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
  it.each([
    ['chaperone-controller', 'webhook'],
    ['chaperone-proxy', 'sidecar'],
  ])('%s runs the compiled entry point package.json names', (target, folder) => {
    const entry = stage(target).lines.find((l) => l.startsWith('ENTRYPOINT'));
    const script = `dist/${folder}/src/main.js`;
    expect(JSON.parse(entry!.slice('ENTRYPOINT'.length))).toEqual(['/nodejs/bin/node', script]);
    expect(pkg.bin[target]).toBe(script);
    // tsc (outDir dist, rootDir .) emits <folder>/src/main.ts as that file.
    expect(build.compilerOptions.outDir).toBe('dist');
    expect(build.include).toContain(`${folder}/src`);
    expect(existsSync(join(REPO_ROOT, folder, 'src', 'main.ts'))).toBe(true);
    expect(stage(target).lines).toContain(`COPY --from=build /src/dist/${folder} ./dist/${folder}`);
    expect(stage(target).lines).toContain('COPY --from=build /src/dist/api ./dist/api');
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

  it('gives the runtime production dependencies only, and package.json for "type": "module"', () => {
    expect(pkg.type).toBe('module');
    expect(stage('runtime').lines).toEqual(
      expect.arrayContaining([
        'COPY --from=deps /app/node_modules ./node_modules',
        'COPY --from=deps /app/package.json ./',
      ]),
    );
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
