// The AIProviderPolicy spec: which pods, which providers, and how data and behaviour are guarded.
import Type from 'typebox';
import { OPENAI_FAMILY, Provider } from './provider.ts';
import { RegionList, StringEnum, StringMap, rule, validations } from './kit.ts';

import {
  AUDIT_CONTENT,
  BOUNDARY_ACTIONS,
  DEFAULT_DETECTORS,
  DETECTORS,
  GUARD_ACTIONS,
  MAX_PROVIDERS,
  MODES,
} from './vocabulary.ts';

export { AUDIT_CONTENT, BOUNDARY_ACTIONS, DEFAULT_DETECTORS, DETECTORS, GUARD_ACTIONS, MAX_PROVIDERS, MODES };

const LabelSelectorRequirement = Type.Object(
  {
    key: Type.String({ maxLength: 317, description: 'The label key the selector applies to.' }),
    operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, {
      description: 'How the key relates to the values.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 63, description: 'A label value.' }), {
        maxItems: 64,
        description: 'Values for In and NotIn; empty for Exists and DoesNotExist.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'A label selector requirement.',
    ...validations(
      rule(
        "(self.operator in ['In', 'NotIn']) == (has(self.values) && size(self.values) > 0)",
        'matchExpressions: In and NotIn need values; Exists and DoesNotExist take none',
      ),
    ),
  },
);

const PodSelector = Type.Object(
  {
    matchLabels: Type.Optional(StringMap('Pods whose labels include all of these.')),
    matchExpressions: Type.Optional(
      Type.Array(LabelSelectorRequirement, {
        maxItems: 16,
        description: 'Label selector requirements, ANDed.',
      }),
    ),
  },
  {
    additionalProperties: false,
    default: {},
    description:
      'Which injected pods of this namespace the policy applies to (a standard label selector); empty selects all of them.',
  },
);

const Requirements = Type.Object(
  {
    dataResidency: Type.Optional(
      RegionList('Every provider must keep data in one of these regions (checked against providers[].risk).'),
    ),
    trainingOptOut: Type.Optional(
      Type.Boolean({ description: 'Every provider must not train on this traffic.' }),
    ),
    maxRetentionDays: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3650,
        description: 'Every provider must retain data at most this long.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'Provider-risk gate: providers whose declared risk does not satisfy it are not used.',
  },
);

const DataBoundary = Type.Object(
  {
    detectors: Type.Array(StringEnum(DETECTORS, { description: 'A sensitive-data detector.' }), {
      maxItems: DETECTORS.length,
      'x-kubernetes-list-type': 'set',
      default: [...DEFAULT_DETECTORS],
      description: `Detectors run on prompts, tool arguments and responses. Default: ${DEFAULT_DETECTORS.join(', ')}.`,
    }),
    action: StringEnum(BOUNDARY_ACTIONS, {
      default: 'Redact',
      description:
        'Redact: replace matches with typed placeholders; Block: refuse the request (422); Report: record only.',
    }),
    restoreInResponse: Type.Boolean({
      default: false,
      description: 'Put the original values back into responses; the mapping never leaves the pod.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Keeps sensitive data inside the pod.' },
);

const Guards = Type.Object(
  {
    promptInjection: Type.Object(
      {
        action: StringEnum(GUARD_ACTIONS, {
          default: 'Report',
          description: 'What a detected injection causes.',
        }),
        threshold: Type.Integer({
          minimum: 1,
          maximum: 100,
          default: 50,
          description: 'Score (1-100) from which a prompt counts as an injection attempt.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Prompt-injection heuristics.' },
    ),
    tools: Type.Object(
      {
        allowed: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 128, description: 'A tool (function) name.' }), {
            maxItems: 128,
            'x-kubernetes-list-type': 'set',
            description: 'Tools the model may be offered and may call; when omitted, any tool.',
          }),
        ),
        maxCallsPerResponse: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 1000,
            description: 'More tool calls in one response is abnormal.',
          }),
        ),
        action: StringEnum(GUARD_ACTIONS, {
          default: 'Report',
          description: 'What an unknown tool or a burst of calls causes.',
        }),
      },
      { additionalProperties: false, default: {}, description: 'Tool-call guard.' },
    ),
    costBurst: Type.Object(
      {
        tokensPerMinute: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 1_000_000_000,
            description: 'Tokens per minute that count as a burst.',
          }),
        ),
        action: StringEnum(GUARD_ACTIONS, { default: 'Report', description: 'What a burst causes.' }),
      },
      { additionalProperties: false, default: {}, description: 'Cost-burst guard.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Runtime guards on prompts, tools and cost.' },
);

const Audit = Type.Object(
  {
    content: StringEnum(AUDIT_CONTENT, {
      default: 'Metadata',
      description: 'Metadata: no prompt or response text; Redacted: text after redaction; Full: everything.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'What the audit records contain.' },
);

const openAiFamily = `[${OPENAI_FAMILY.map((t) => `'${t}'`).join(', ')}]`;

export const PolicySpec = Type.Object(
  {
    podSelector: PodSelector,
    mode: StringEnum(MODES, {
      default: 'Enforce',
      description:
        'Enforce: refuse what the policy does not allow. Report: let it through and record "would deny".',
    }),
    killSwitch: Type.Boolean({
      default: false,
      description: 'true: every request under this policy is refused now, in every selected pod.',
    }),
    requirements: Type.Optional(Requirements),
    providers: Type.Array(Provider, {
      minItems: 1,
      maxItems: MAX_PROVIDERS,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      description: 'The AI providers selected pods may reach. Everything else is refused.',
      ...validations(
        rule(
          'self.all(p, self.exists_one(q, q.name == p.name))',
          'provider names must be unique within a policy',
        ),
        rule(
          '!self.exists(p, has(p.failover) && p.failover.exists(f, f == p.name))',
          'a provider cannot fail over to itself',
        ),
        rule(
          'self.all(p, !has(p.failover) || p.failover.all(f, self.exists(q, q.name == f)))',
          'failover must name providers declared in this policy',
        ),
        rule(
          `self.all(p, !has(p.failover) || p.failover.all(f, self.all(q, q.name != f || q.type == p.type || (q.type in ${openAiFamily} && p.type in ${openAiFamily}))))`,
          'failover targets must speak the same API (openai, azure-openai and generic are interchangeable)',
        ),
      ),
    }),
    dataBoundary: DataBoundary,
    guards: Guards,
    audit: Audit,
  },
  { additionalProperties: false, description: 'What selected pods may send to which AI provider.' },
);
