// Installs the generated CRDs (the committed files in crds/, exactly what users apply) into the
// test cluster, once per run: CRDs are cluster-scoped and shared by all suites.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { POLICY_CRD_NAME } from '../../api/src/names.ts';
import { eventually } from './eventually.ts';

const crdFile = new URL(`../../crds/${POLICY_CRD_NAME}.yaml`, import.meta.url);

export async function ensurePolicyCrd(kc: k8s.KubeConfig): Promise<void> {
  const api = kc.makeApiClient(k8s.ApiextensionsV1Api);
  // loadYaml maps JSON names (`x-kubernetes-validations`, `default`, `enum`) onto the client's
  // model; a plain YAML parse would be serialised lossily and silently drop them.
  const body = k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(crdFile, 'utf8'));
  try {
    await api.createCustomResourceDefinition({ body });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
    const current = await api.readCustomResourceDefinition({ name: POLICY_CRD_NAME });
    body.metadata = { ...body.metadata, resourceVersion: current.metadata?.resourceVersion };
    await api.replaceCustomResourceDefinition({ name: POLICY_CRD_NAME, body });
  }
  await eventually(`CRD ${POLICY_CRD_NAME} Established`, async () => {
    const crd = await api.readCustomResourceDefinition({ name: POLICY_CRD_NAME });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
      ? true
      : undefined;
  });
}
