// `make build` and `make test`: compiles chaperone-proxy's native function (sidecar/native/page-trim.c,
// madvise for runtime/startup-pages.ts) into dist/sidecar/src/page-trim.node, beside the bundle.
// Node-API, so one build serves every Node version; the headers come from the node-api-headers
// package. Skipped when the output is newer than the source. Linux only (it needs /proc); where no C
// compiler is found it says so and the sidecar runs without it, keeping its start-up pages resident.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_ADDON } from '../sidecar/src/runtime/startup-pages.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE = join(ROOT, 'sidecar/native/page-trim.c');

export type NativeBuild = { built: boolean; file: string } | { built: false; reason: string };

/** Compiles the addon into `out` unless it is newer than the source. */
export function buildNative(out = fileURLToPath(BUILT_ADDON), cc = process.env.CC || 'cc'): NativeBuild {
  if (process.platform !== 'linux') return { built: false, reason: `not Linux (${process.platform})` };
  if (existsSync(out) && statSync(out).mtimeMs > statSync(SOURCE).mtimeMs) return { built: false, file: out };
  const headers = (createRequire(import.meta.url)('node-api-headers') as { include_dir: string }).include_dir;
  mkdirSync(dirname(out), { recursive: true });
  // -shared leaves the napi_* symbols to be resolved from the node process that loads the addon.
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-fPIC', '-shared', '-I', headers, '-o', out, SOURCE];
  const run = spawnSync(cc, args, { encoding: 'utf8' });
  if (run.error) return { built: false, reason: `${cc}: ${run.error.message}` };
  if (run.status !== 0) throw new Error(`${cc} ${args.join(' ')} failed:\n${run.stderr}`);
  return { built: true, file: out };
}

if (import.meta.main) {
  const result = buildNative();
  if ('reason' in result)
    console.warn(
      `build-native: page-trim.node not built (${result.reason}); the sidecar keeps its start-up pages`,
    );
  else if (result.built) console.log(`${relative(process.cwd(), result.file)} built`);
}
