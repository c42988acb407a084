// The generated AIProviderPolicy CRD on the real apiserver: the examples apply, every invalid
// manifest is rejected with its message, printer columns and `kubectl explain` work.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { GROUP, POLICY, VERSION } from '../../api/src/names.ts';
import { Provider } from '../../api/src/policy/index.ts';
import { useTestCluster } from '../helpers/cluster.ts';
import { ensurePolicyCrd } from '../helpers/crds.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { INVALID_CASES, validPolicy } from '../fixtures/policy-cases.ts';

const cluster = useTestCluster('policy-crd');
const { namespace } = cluster;
const policies = { group: GROUP, version: VERSION, plural: POLICY.plural, namespace };

beforeAll(async () => {
  await ensurePolicyCrd(cluster.kc);
});

const examplesDir = new URL('../../examples/', import.meta.url);
const examples = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));

/** The apiserver's refusal message, from the Status body of a failed request. */
async function rejection(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (err) {
    const body = (err as { body?: string }).body;
    return body ? (JSON.parse(body) as { message: string }).message : String(err);
  }
  throw new Error('the apiserver accepted the manifest');
}

describe('examples', () => {
  it.each(examples)('%s applies', async (file) => {
    const docs = k8s.loadAllYaml(readFileSync(new URL(file, examplesDir), 'utf8')) as k8s.KubernetesObject[];
    for (const doc of docs) {
      if (doc.kind === 'Secret') {
        await cluster.core.createNamespacedSecret({
          namespace,
          body: doc,
          fieldValidation: 'Strict',
        });
      } else {
        await cluster.customObjects.createNamespacedCustomObject({
          ...policies,
          body: doc,
          fieldValidation: 'Strict',
        });
      }
    }
    const name = docs.find((d) => d.kind === POLICY.kind)!.metadata!.name!;
    const stored = (await cluster.customObjects.getNamespacedCustomObject({ ...policies, name })) as {
      spec: { mode: string; audit: { content: string } };
    };
    // Defaults are applied by the apiserver from the same schema.
    expect(['Enforce', 'Report']).toContain(stored.spec.mode);
    expect(stored.spec.audit.content).toMatch(/^(Metadata|Redacted|Full)$/);
  });
});

describe('invalid manifests', () => {
  it('has a table of at least 25 cases', () => {
    expect(INVALID_CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(INVALID_CASES)('rejects $name', async ({ name, mutate, path, message, schema }) => {
    const body = validPolicy(`invalid-${INVALID_CASES.findIndex((c) => c.name === name)}`);
    mutate(body);
    const text = await rejection(
      cluster.customObjects.createNamespacedCustomObject({ ...policies, body, fieldValidation: 'Strict' }),
    );
    if (message) expect(text).toContain(`${path}: Invalid value`);
    if (message) expect(text).toContain(message);
    if (schema) expect(text).toMatch(schema.apiserver);
  });
});

describe('kubectl', () => {
  it('lists policies with the printer columns, including status written through the subresource', async () => {
    const body = validPolicy('columns');
    body.spec.providers.push({
      name: 'azure',
      type: 'azure-openai',
      endpoint: 'https://contoso.openai.azure.com',
      credentials: { secretRef: { name: 'azure-key', key: 'apiKey' } },
    });
    body.spec.killSwitch = true;
    await cluster.customObjects.createNamespacedCustomObject({ ...policies, body });
    await cluster.customObjects.patchNamespacedCustomObjectStatus(
      {
        ...policies,
        name: 'columns',
        body: {
          status: {
            observedGeneration: 1,
            providers: 'openai,azure',
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'Accepted',
                message: 'compiled',
                lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
              },
            ],
            enforcement: { generation: 1, pods: 4, acknowledged: 3, summary: '3/4' },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );

    const table = await kubectl('get', 'aipp', 'columns', '-n', namespace);
    const [header, row] = table.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual([
      'NAME',
      'MODE',
      'PROVIDERS',
      'KILL-SWITCH',
      'ENFORCED',
      'READY',
      'AGE',
    ]);
    expect(row!.split(/\s+/).slice(0, 6)).toEqual([
      'columns',
      'Enforce',
      'openai,azure',
      'true',
      '3/4',
      'True',
    ]);

    // The category and the short name reach the same objects.
    expect(await kubectl('get', 'chaperone', '-n', namespace, '-o', 'name')).toContain(
      'aiproviderpolicy.chaperone.dev/columns',
    );
  });

  it('explains every provider field with its description', async () => {
    const text = (await kubectl('explain', 'aiproviderpolicy.spec.providers')).replace(/\s+/g, ' ');
    const fields = Object.entries(Provider.properties as unknown as Record<string, { description: string }>);
    expect(fields.length).toBeGreaterThan(10);
    for (const [field, schema] of fields) {
      const firstWords = schema.description.split(/\s+/).slice(0, 4).join(' ');
      expect(text).toContain(firstWords);
      expect(text).toMatch(new RegExp(` ${field} <`));
    }
  });
});
