// AIProviderPolicy: the schema written once. The CRD (crds/, the chart), the compiled validator and
// the TypeScript types all come from these definitions.
import Type, { type Static } from 'typebox';
import { API_VERSION, POLICY } from '../names.ts';
import { PolicySpec } from './spec.ts';
import { PolicyStatus } from './status.ts';

export const AIProviderPolicySchema = Type.Object(
  {
    apiVersion: Type.Unsafe<typeof API_VERSION>({
      type: 'string',
      enum: [API_VERSION],
      description: 'API version.',
    }),
    kind: Type.Unsafe<typeof POLICY.kind>({ type: 'string', enum: [POLICY.kind], description: 'Kind.' }),
    metadata: Type.Object(
      {
        name: Type.String({ description: 'Policy name.' }),
        namespace: Type.Optional(Type.String({ description: 'Namespace of the pods it governs.' })),
        generation: Type.Optional(Type.Integer()),
      },
      { description: 'Standard object metadata.' },
    ),
    spec: PolicySpec,
    status: Type.Optional(PolicyStatus),
  },
  {
    description:
      'AIProviderPolicy declares which AI providers the selected pods of a namespace may reach through the Chaperone sidecar, with which credentials, and how their data and behaviour are guarded.',
  },
);

/** A policy after defaulting (the apiserver and the local validator apply the same defaults). */
export type AIProviderPolicy = Static<typeof AIProviderPolicySchema>;
export type PolicySpecType = Static<typeof PolicySpec>;
export type ProviderSpec = PolicySpecType['providers'][number];

export { PolicySpec, PolicyStatus };
export * from './provider.ts';
export * from './spec.ts';
