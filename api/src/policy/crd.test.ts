import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { buildPolicyCrd, toStructural } from './crd.ts';

type Node = Record<string, unknown> & { properties?: Record<string, Node>; items?: Node };

/** Every property path of a schema, with its node. */
function walk(node: Node, path: string, out: [string, Node][] = []): [string, Node][] {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    out.push([`${path}.${name}`, child]);
    walk(child, `${path}.${name}`, out);
  }
  if (node.items) walk(node.items, `${path}[]`, out);
  return out;
}

const crd = buildPolicyCrd() as {
  spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
};
const root = crd.spec.versions[0]!.schema.openAPIV3Schema;
const specAndStatus = walk(root, '').filter(
  ([path]) => path.startsWith('.spec') || path.startsWith('.status'),
);

describe('the generated CRD schema', () => {
  it('describes every field of spec and status', () => {
    const undocumented = specAndStatus
      .filter(([, node]) => typeof node.description !== 'string')
      .map(([p]) => p);
    expect(undocumented).toEqual([]);
    expect(specAndStatus.length).toBeGreaterThan(80);
  });

  it('is structural: a type on every node, no additionalProperties: false', () => {
    expect(specAndStatus.filter(([, node]) => typeof node.type !== 'string').map(([p]) => p)).toEqual([]);
    expect(JSON.stringify(root)).not.toContain('"additionalProperties":false');
  });

  it('does not require what the apiserver defaults', () => {
    const spec = root.properties!.spec!;
    expect(spec.required).toEqual(['providers']);
    expect((spec.properties!.mode as { default: string }).default).toBe('Enforce');
  });

  it('bounds every list and string', () => {
    const unbounded = specAndStatus
      .filter(([path]) => !path.includes('lastTransitionTime'))
      .filter(
        ([, node]) =>
          (node.type === 'array' && node.maxItems === undefined) ||
          (node.type === 'string' && node.maxLength === undefined && node.enum === undefined),
      )
      .map(([p]) => p);
    expect(unbounded).toEqual([]);
  });
});

describe('toStructural', () => {
  it.each([
    [{ anyOf: [{ type: 'string' }] }, /keyword "anyOf" is not allowed/],
    [{ type: 'string', const: 'x' }, /keyword "const" is not allowed/],
    [{ description: 'no type' }, /needs a type/],
  ])('refuses %j', (schema, message) => {
    expect(() => toStructural(schema)).toThrow(message);
  });
});

describe('the committed CRD file', () => {
  const text = readFileSync(
    new URL('../../../crds/aiproviderpolicies.chaperone.dev.yaml', import.meta.url),
    'utf8',
  );

  it('reads the same to YAML 1.1 parsers (Helm, kubectl) as to YAML 1.2 ones: `Off` stays a string', () => {
    const yaml11 = parse(text, { version: '1.1' }) as unknown;
    expect(yaml11).toEqual(parse(text, { version: '1.2' }));
    expect(yaml11).toEqual(buildPolicyCrd());
  });
});
