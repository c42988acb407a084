// `make build`, after tsc: chaperone-proxy as an esbuild bundle, written over the dist/sidecar/src/main.js
// tsc emitted, with its policy validator beside it (dist/sidecar/src/validate-child.js) and what is
// imported dynamically (workload identity, the controller client, the AWS signer and the code they
// share with main.js) in dist/sidecar/src/chunks/. Node then loads 8 files at start instead of
// resolving and compiling ~130 modules: 9.3 MB less idle RSS (docs/sidecar.md, "Memory"). Every
// package is inside, so the sidecar's image needs no node_modules.
import { readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'sidecar/src/main.ts');
const VALIDATOR = join(ROOT, 'sidecar/src/config/validate-child.ts');
// policy-file.ts spawns `./validate-child.js` relative to its own module URL, which in the bundle is
// main.js: the module must stay in main.js (not a shared chunk) and the validator must sit beside it.
const SPAWNS_VALIDATOR = join(ROOT, 'sidecar/src/config/policy-file.ts');
// startup-pages.ts loads `./page-trim.node` (hack/build-native.ts) relative to its module URL too.
const LOADS_ADDON = join(ROOT, 'sidecar/src/runtime/startup-pages.ts');

// admin/prom.ts, proxy/undici.ts and credentials/token-endpoint.ts load single files of prom-client
// and undici through `createRequire(import.meta.url)`, which esbuild leaves to run time
// (evanw/esbuild#1828). Without that line the calls are plain require()s, which esbuild bundles.
const LOCAL_REQUIRE = /^const require = createRequire\(import\.meta\.url\);$/m;
const localRequire: Plugin = {
  name: 'bundle-local-require',
  setup(on) {
    on.onLoad({ filter: /\/sidecar\/src\/.*\.ts$/ }, async ({ path }) => {
      const text = await readFile(path, 'utf8');
      if (!text.includes('createRequire(')) return undefined;
      if (!LOCAL_REQUIRE.test(text))
        throw new Error(
          `${path}: createRequire() is only bundled as \`const require = createRequire(import.meta.url);\``,
        );
      return { contents: text.replace(LOCAL_REQUIRE, ''), loader: 'ts' };
    });
  },
};

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  plugins: [localRequire],
  // The CommonJS packages inside require() Node's builtins; an ES module has no require of its own.
  banner: {
    js: "import { createRequire as __chaperoneRequire } from 'node:module'; const require = __chaperoneRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
};

export interface SidecarBundle {
  /** The entry point (main.js) and everything written, as paths. */
  main: string;
  files: { path: string; bytes: number }[];
  /** main.js and the chunks it imports statically: the files Node reads at start. */
  startFiles: string[];
  /** Source files and package files in main.js and the chunks it imports: evaluated or parsed at start. */
  startInputs: string[];
  /** Node builtins those import as ES modules (each is loaded at start, lazy exports and all). */
  builtinImports: string[];
}

/** Every package is inside: what is left to require() at run time is a Node builtin, by name. */
function check(meta: Metafile): void {
  const left = Object.values(meta.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path))
    .map((i) => i.path);
  // A require() esbuild cannot resolve at build time (a computed name) stays a call of __require.
  for (const file of Object.keys(meta.outputs).filter((f) => f.endsWith('.js')))
    for (const call of readFileSync(join(ROOT, file), 'utf8').matchAll(/\b__require\(([^)]*)\)/g))
      if (!/^"[^"]+"$/.test(call[1]!) || !isBuiltin(JSON.parse(call[1]!) as string)) left.push(call[0]);
  if (left.length > 0) throw new Error(`left out of the bundle: ${[...new Set(left)].join(', ')}`);
}

/** Bundles the sidecar and its validator into outdir; clears outdir/chunks first. */
export async function bundleSidecar(outdir: string): Promise<SidecarBundle> {
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  const [sidecar, validator] = await Promise.all([
    build({
      ...COMMON,
      entryPoints: { main: MAIN },
      metafile: true,
      outdir,
      // Dynamic imports stay separate files, loaded (with the builtins they import) when first used.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      allowOverwrite: true,
    }),
    build({
      ...COMMON,
      entryPoints: { 'validate-child': VALIDATOR },
      metafile: true,
      outdir,
      allowOverwrite: true,
    }),
  ]);
  check(sidecar.metafile);
  check(validator.metafile);
  const outputs = { ...sidecar.metafile.outputs, ...validator.metafile.outputs };
  const mainKey = Object.keys(sidecar.metafile.outputs).find((k) => k.endsWith('/main.js'))!;
  for (const [module, beside] of [
    [SPAWNS_VALIDATOR, 'validate-child.js'],
    [LOADS_ADDON, 'page-trim.node'],
  ] as const)
    if (!(relative(ROOT, module) in sidecar.metafile.outputs[mainKey]!.inputs))
      throw new Error(`${relative(ROOT, module)} left main.js: it would not find ${beside}`);
  // main.js and the chunks it imports statically: what Node loads at start.
  const startKeys = new Set([mainKey]);
  for (const key of startKeys)
    for (const i of sidecar.metafile.outputs[key]!.imports)
      if (i.kind === 'import-statement' && !i.external) startKeys.add(i.path);
  const startOutputs = [...startKeys].map((key) => sidecar.metafile.outputs[key]!);
  return {
    main: join(ROOT, mainKey),
    files: Object.entries(outputs)
      .filter(([path]) => !path.endsWith('.map'))
      .map(([path, out]) => ({ path: join(ROOT, path), bytes: out.bytes })),
    startFiles: [...startKeys].map((key) => join(ROOT, key)),
    startInputs: [...new Set(startOutputs.flatMap((o) => Object.keys(o.inputs)))],
    builtinImports: [
      ...new Set(
        startOutputs.flatMap((o) =>
          o.imports.filter((i) => i.kind === 'import-statement' && i.external).map((i) => i.path),
        ),
      ),
    ],
  };
}

if (import.meta.main) {
  const bundle = await bundleSidecar(join(ROOT, 'dist/sidecar/src'));
  for (const file of bundle.files)
    console.log(`${relative(process.cwd(), file.path)} ${Math.round(file.bytes / 1024)} KiB`);
}
