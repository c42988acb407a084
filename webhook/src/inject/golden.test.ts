// Golden files: test/golden/inject/<case>.yaml (a Pod as the apiserver hands it to the webhook) →
// <case>.yaml.injected (the decision and, unless denied, the resulting pod). Cases are discovered
// from the folder; each result is re-admitted to prove idempotence and its JSON patch is applied to
// the input to prove the patch yields it. Stale or missing goldens fail; UPDATE_GOLDEN=1 rewrites.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import type { V1Pod } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { admitPod, type AdmissionDeps, type PodOutcome } from '../admission/admit-pod.ts';
import { staticNamespaces, staticPolicies } from '../admission/lookups.ts';
import { diffPatch } from '../admission/patch.ts';
import { defaultInjectOptions, type InjectOptions, type PolicyProviderRef } from './settings.ts';

const GOLDEN_DIR = join(import.meta.dirname, '../../../test/golden/inject');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

interface GoldenContext {
  controllerNamespace: string;
  options: Partial<InjectOptions>;
  namespaces: Record<string, { labels?: Record<string, string>; providers?: PolicyProviderRef[] }>;
}

const context = parse(readFileSync(join(GOLDEN_DIR, '_context.yaml'), 'utf8')) as GoldenContext;
const deps: AdmissionDeps = {
  controllerNamespace: context.controllerNamespace,
  options: defaultInjectOptions(context.options),
  namespaces: staticNamespaces(
    Object.fromEntries(Object.entries(context.namespaces).map(([name, ns]) => [name, ns.labels ?? {}])),
  ),
  policies: staticPolicies(
    Object.fromEntries(Object.entries(context.namespaces).map(([name, ns]) => [name, ns.providers ?? []])),
  ),
};

const files = readdirSync(GOLDEN_DIR);
const cases = files
  .filter((f) => f.endsWith('.yaml') && !f.startsWith('_'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

function namespaceOf(pod: V1Pod): string {
  return pod.metadata?.namespace ?? 'apps';
}

function render(outcome: PodOutcome, patchOperations: number): string {
  switch (outcome.result) {
    case 'skipped':
      return `# decision: skipped (${outcome.reason})\n# patch: none\n`;
    case 'denied':
      return `# decision: denied (${outcome.code})\n# message: ${outcome.message}\n`;
    case 'injected': {
      const warnings = [...new Set(outcome.warnings)].map((w) => `# warning: ${w}\n`).join('');
      return (
        `# decision: injected (${outcome.reason})\n# patch: ${patchOperations} operations\n${warnings}` +
        stringify(outcome.pod, { lineWidth: 0 })
      );
    }
  }
}

describe('golden injection cases', () => {
  it('has at least 15 cases and no golden without an input', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    const orphans = files
      .filter((f) => f.endsWith('.yaml.injected'))
      .filter((f) => !cases.includes(f.slice(0, -'.yaml.injected'.length)));
    expect(orphans).toEqual([]);
  });

  it.each(cases)('%s', async (name) => {
    const input = parse(readFileSync(join(GOLDEN_DIR, `${name}.yaml`), 'utf8')) as V1Pod;
    const pristine = structuredClone(input);
    const outcome = await admitPod(input, namespaceOf(input), deps);
    expect(input).toEqual(pristine); // mutate is pure

    let patchOperations = 0;
    if (outcome.result === 'injected') {
      const patch = diffPatch(input, outcome.pod);
      patchOperations = patch.length;
      // The patch the apiserver receives turns the input into exactly the golden pod.
      const patched = jsonpatch.applyPatch(structuredClone(input), patch, true, false).newDocument;
      expect(patched).toStrictEqual(outcome.pod);
      // JSON-clean: nothing undefined that the patch could not carry.
      expect(JSON.parse(JSON.stringify(outcome.pod))).toStrictEqual(outcome.pod);

      // Idempotent: the injected pod admitted again is injected with no change.
      const again = await admitPod(outcome.pod, namespaceOf(input), deps);
      expect(again.result).toBe('injected');
      if (again.result === 'injected') {
        expect(diffPatch(outcome.pod, again.pod)).toEqual([]);
        expect(again.status.hash).toBe(outcome.status.hash);
      }
    }

    const actual = render(outcome, patchOperations);
    const goldenFile = join(GOLDEN_DIR, `${name}.yaml.injected`);
    if (UPDATE) {
      writeFileSync(goldenFile, actual);
      return;
    }
    if (!existsSync(goldenFile)) throw new Error(`${goldenFile} is missing: run with UPDATE_GOLDEN=1`);
    expect(actual).toBe(readFileSync(goldenFile, 'utf8'));
  });
});
