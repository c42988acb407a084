// What the controller reports on a policy: whether it was accepted, and how many selected pods
// confirmed enforcing its current generation.
import Type from 'typebox';
import { StringEnum } from './kit.ts';

const Condition = Type.Object(
  {
    type: Type.String({ maxLength: 316, description: 'Condition type, e.g. Ready.' }),
    status: StringEnum(['True', 'False', 'Unknown'] as const, { description: 'True, False or Unknown.' }),
    reason: Type.String({ maxLength: 1024, description: 'A CamelCase reason for the last transition.' }),
    message: Type.String({ maxLength: 32_768, description: 'A human-readable explanation.' }),
    lastTransitionTime: Type.String({ format: 'date-time', description: 'When the status last changed.' }),
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'The generation this condition was computed for.' }),
    ),
  },
  { additionalProperties: false, description: 'A standard Kubernetes condition.' },
);

export const PolicyStatus = Type.Object(
  {
    observedGeneration: Type.Optional(
      Type.Integer({ minimum: 0, description: 'The last generation the controller processed.' }),
    ),
    conditions: Type.Optional(
      Type.Array(Condition, {
        maxItems: 16,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
        description: 'Ready: the policy compiled and is being distributed to sidecars.',
      }),
    ),
    providers: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          'The provider names of the observed generation, comma-separated, for kubectl get (printer columns show only the first element of a list).',
      }),
    ),
    enforcement: Type.Optional(
      Type.Object(
        {
          generation: Type.Integer({ minimum: 0, description: 'The generation being confirmed.' }),
          pods: Type.Integer({ minimum: 0, description: 'Selected pods with a connected sidecar.' }),
          acknowledged: Type.Integer({
            minimum: 0,
            description: 'Of those, sidecars enforcing this generation.',
          }),
          summary: Type.String({ maxLength: 32, description: '`acknowledged/pods`, for kubectl get.' }),
        },
        { additionalProperties: false, description: 'Enforcement confirmed by sidecars.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Observed state, written by chaperone-controller.' },
);
