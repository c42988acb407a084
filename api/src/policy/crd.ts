// Builds the aiproviderpolicies.chaperone.dev CustomResourceDefinition from the TypeBox schema.
// Pure: `make generate` writes the result to crds/ and the chart.
import { GROUP, POLICY, POLICY_CRD_NAME, VERSION } from '../names.ts';
import { PolicySpec, PolicyStatus } from './index.ts';

type JsonSchema = Record<string, unknown>;

/** JSON Schema keywords a structural CRD schema may carry; anything else fails generation. */
const STRUCTURAL_KEYS = new Set([
  'type',
  'description',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'default',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'maxProperties',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
]);

/**
 * TypeBox schema → structural OpenAPI v3 schema:
 * - `additionalProperties: false` is dropped: CRDs forbid it next to `properties` (the apiserver
 *   prunes unknown fields instead, and rejects them under strict field validation, kubectl's default);
 * - fields with a default leave `required`: the apiserver fills them in, users need not write them.
 */
export function toStructural(schema: JsonSchema, path = '#'): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (!STRUCTURAL_KEYS.has(key))
      throw new Error(`${path}: keyword "${key}" is not allowed in a structural CRD schema`);
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([name, child]) => [
          name,
          toStructural(child, `${path}/properties/${name}`),
        ]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = toStructural(value as JsonSchema, `${path}/${key}`);
    } else if (key === 'required') {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (value as string[]).filter((name) => properties[name]?.default === undefined);
      if (required.length > 0) out.required = required;
    } else {
      out[key] = value;
    }
  }
  if (out.type === undefined) throw new Error(`${path}: every node of a structural schema needs a type`);
  return out;
}

const plain = (schema: unknown): JsonSchema => JSON.parse(JSON.stringify(schema)) as JsonSchema;

export function buildPolicyCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: POLICY_CRD_NAME, labels: { 'app.kubernetes.io/part-of': 'chaperone' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: POLICY.kind,
        listKind: POLICY.listKind,
        plural: POLICY.plural,
        singular: POLICY.singular,
        shortNames: [...POLICY.shortNames],
        categories: [...POLICY.categories],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Enforce or Report.' },
            {
              name: 'Providers',
              type: 'string',
              jsonPath: '.status.providers',
              description: 'Providers the policy allows (as last observed by the controller).',
            },
            {
              name: 'Kill-Switch',
              type: 'boolean',
              jsonPath: '.spec.killSwitch',
              description: 'true: every request under this policy is refused.',
            },
            {
              name: 'Enforced',
              type: 'string',
              jsonPath: '.status.enforcement.summary',
              description: 'Sidecars enforcing the current generation / selected pods.',
            },
            {
              name: 'Ready',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
              description: 'The policy compiled and is being distributed.',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'AIProviderPolicy declares which AI providers the selected pods of a namespace may reach through the Chaperone sidecar, with which credentials, and how their data and behaviour are guarded.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'API version: chaperone.dev/v1alpha1.' },
                kind: { type: 'string', description: 'Kind: AIProviderPolicy.' },
                metadata: { type: 'object' },
                spec: toStructural(plain(PolicySpec), '#/spec'),
                status: toStructural(plain(PolicyStatus), '#/status'),
              },
            },
          },
        },
      ],
    },
  };
}
