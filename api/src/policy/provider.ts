// One AI provider a workload may reach: where it is, what may be sent to it, with which
// credential, and how the sidecar protects the workload when the provider misbehaves.
import Type, { type Static } from 'typebox';
import { RegionList, StringEnum, dnsLabel, rule, validations } from './kit.ts';

import {
  DEFAULT_ASSERTION_HEADER,
  HTTP_METHODS,
  OPENAI_FAMILY,
  PROVIDER_TYPES,
  WORKLOAD_IDENTITY_EXCHANGES,
  type ProviderType,
} from './vocabulary.ts';

export {
  DEFAULT_ASSERTION_HEADER,
  HTTP_METHODS,
  OPENAI_FAMILY,
  PROVIDER_TYPES,
  WORKLOAD_IDENTITY_EXCHANGES,
  type ProviderType,
};

const HOST = '([a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?';

export const HostPattern = Type.String({
  maxLength: 253,
  description:
    'A fully qualified host name (`api.openai.com`) or a wildcard over one domain (`*.openai.azure.com`, which matches `x.openai.azure.com` but not `openai.azure.com`). Lowercase ASCII; write internationalised names in punycode.',
  ...validations(
    rule("self != '*'", "a bare '*' would allow every host: list host names or '*.domain' patterns"),
    rule(
      `self.matches('^(\\\\*\\\\.)?${HOST}$')`,
      "host patterns must be lowercase ASCII DNS names with at least two labels, optionally prefixed by '*.'",
    ),
    rule(
      "!self.matches('^\\\\*\\\\.[^.]+$')",
      "a wildcard must keep at least two labels after '*.' (use '*.example.com', not '*.com')",
    ),
    rule(
      "!self.matches('\\\\.[0-9]+$')",
      'host patterns must not be IP literals: allow private addresses with allowedCIDRs',
    ),
  ),
});

const Cidr = Type.String({
  maxLength: 64,
  description: 'An IPv4 or IPv6 network in CIDR notation, such as `10.20.0.0/16` or `fd00:1::/64`.',
  ...validations(
    rule(
      "self.matches('^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$') || self.matches('^[0-9a-f:]*:[0-9a-f:]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$')",
      'allowedCIDRs entries must be networks in CIDR notation, such as 10.20.0.0/16 or fd00:1::/64',
    ),
  ),
});

const ApiPath = Type.String({
  maxLength: 512,
  description: 'An absolute request path; a trailing `*` matches any rest of the path (`/v1/chat/*`).',
  ...validations(
    rule(
      "self.matches('^/[A-Za-z0-9._~!$&()+,;=:@%/-]*[*]?$')",
      "allowedPaths entries must be absolute paths ('/v1/embeddings'), optionally ending in '*'",
    ),
    rule(
      "!self.matches('(^|/)[.][.]?(/|[*]?$)')",
      "allowedPaths entries must not contain '.' or '..' segments",
    ),
  ),
});

const SecretRef = Type.Object(
  {
    name: Type.String({
      maxLength: 253,
      description: "Name of a Secret in the policy's namespace. Only the sidecar receives its value.",
      ...validations(
        rule(
          "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",
          'secretRef.name must be a valid Secret name (a lowercase DNS subdomain)',
        ),
      ),
    }),
    key: Type.String({
      maxLength: 253,
      description: 'The key within the Secret that holds the API key.',
      ...validations(
        rule(
          "self.matches('^[-._a-zA-Z0-9]+$')",
          "secretRef.key may contain only letters, digits, '-', '_' and '.'",
        ),
      ),
    }),
    header: Type.Optional(
      Type.String({
        maxLength: 128,
        description:
          'Request header that carries the key. Defaults by provider type: `Authorization: Bearer` (openai, generic), `x-api-key` (anthropic), `api-key` (azure-openai).',
        ...validations(
          rule("self.matches('^[A-Za-z0-9-]+$')", 'secretRef.header must be an HTTP header name'),
        ),
      }),
    ),
  },
  { additionalProperties: false, description: 'An API key held in a Secret and injected by the sidecar.' },
);

const WorkloadIdentity = Type.Object(
  {
    exchange: StringEnum(WORKLOAD_IDENTITY_EXCHANGES, {
      description:
        'How the projected service-account token becomes a provider credential: `azure` (federated client assertion to Microsoft Entra ID), `aws` (STS AssumeRoleWithWebIdentity, then SigV4), `gcp` (STS token exchange, optional impersonation), `oauth2-token-exchange` (RFC 8693), `none` (present the projected token itself as an identity assertion).',
    }),
    audience: Type.String({
      minLength: 1,
      maxLength: 256,
      description:
        'Audience of the projected token the sidecar requests for this provider, e.g. `api://AzureADTokenExchange` or `sts.amazonaws.com`.',
    }),
    tenantID: Type.Optional(Type.String({ maxLength: 64, description: 'Azure: the Entra ID tenant.' })),
    clientID: Type.Optional(
      Type.String({
        maxLength: 64,
        description: 'Azure: the application (client) ID of the federated identity.',
      }),
    ),
    roleARN: Type.Optional(
      Type.String({
        maxLength: 2048,
        description: 'AWS: the IAM role to assume with the web identity.',
        ...validations(
          rule(
            "self.matches('^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$')",
            'roleARN must be an IAM role ARN (arn:aws:iam::123456789012:role/name)',
          ),
        ),
      }),
    ),
    region: Type.Optional(Type.String({ maxLength: 32, description: 'AWS: the region of STS and Bedrock.' })),
    workloadIdentityProvider: Type.Optional(
      Type.String({
        maxLength: 512,
        description:
          'GCP: the workload identity pool provider resource name, `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/Q`.',
      }),
    ),
    serviceAccountEmail: Type.Optional(
      Type.String({
        maxLength: 254,
        description: 'GCP: a service account to impersonate after the exchange.',
      }),
    ),
    tokenURL: Type.Optional(
      Type.String({
        maxLength: 2048,
        description:
          "The token endpoint (https). Required for oauth2-token-exchange. For azure, aws and gcp it replaces the public cloud's endpoint (a sovereign cloud, a private or VPC endpoint): `https://login.microsoftonline.com/<tenantID>/oauth2/v2.0/token`, `https://sts.<region>.amazonaws.com/`, `https://sts.googleapis.com/v1/token`.",
        ...validations(
          rule("self.startsWith('https://')", 'tokenURL must be an https:// URL'),
          rule(
            "!self.startsWith('https://') || self.matches('^https://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[^?#@ ]*)?$')",
            'tokenURL must be https://host[:port][/path] with a lowercase host and no credentials, query or fragment',
          ),
        ),
      }),
    ),
    serviceAccountImpersonationURL: Type.Optional(
      Type.String({
        maxLength: 2048,
        description:
          'GCP: the IAM Credentials endpoint that impersonates serviceAccountEmail (default `https://iamcredentials.googleapis.com`).',
        ...validations(
          rule(
            "self.matches('^https://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[^?#@ ]*)?$')",
            'serviceAccountImpersonationURL must be https://host[:port][/path] with a lowercase host and no credentials, query or fragment',
          ),
        ),
      }),
    ),
    scope: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          'Scope requested from the token endpoint. Defaults: `https://cognitiveservices.azure.com/.default` (azure), `https://www.googleapis.com/auth/cloud-platform` (gcp), none (oauth2-token-exchange).',
      }),
    ),
    resource: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          'oauth2-token-exchange: the `audience` parameter sent to the token endpoint (the gateway the token is for).',
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Short-lived credentials from the pod's projected service-account token: no long-lived key exists anywhere.",
    ...validations(
      rule(
        "self.exchange != 'azure' || (has(self.tenantID) && has(self.clientID))",
        'workloadIdentity with exchange azure needs tenantID and clientID',
      ),
      rule(
        "self.exchange != 'aws' || (has(self.roleARN) && has(self.region))",
        'workloadIdentity with exchange aws needs roleARN and region',
      ),
      rule(
        "self.exchange != 'gcp' || has(self.workloadIdentityProvider)",
        'workloadIdentity with exchange gcp needs workloadIdentityProvider',
      ),
      rule(
        "self.exchange != 'oauth2-token-exchange' || has(self.tokenURL)",
        'workloadIdentity with exchange oauth2-token-exchange needs tokenURL',
      ),
      rule(
        "self.exchange == 'gcp' || !has(self.serviceAccountImpersonationURL)",
        'serviceAccountImpersonationURL applies to exchange gcp only',
      ),
      rule(
        "self.exchange != 'none' || !has(self.tokenURL)",
        'workloadIdentity with exchange none presents the projected token itself: tokenURL does not apply',
      ),
    ),
  },
);

const Credentials = Type.Object(
  {
    secretRef: Type.Optional(SecretRef),
    workloadIdentity: Type.Optional(WorkloadIdentity),
  },
  {
    additionalProperties: false,
    description:
      'The credential the sidecar adds to requests (the app never holds one). Exactly one of secretRef or workloadIdentity.',
    ...validations(
      rule(
        'has(self.secretRef) != has(self.workloadIdentity)',
        'credentials must set exactly one of secretRef or workloadIdentity',
      ),
    ),
  },
);

const Identity = Type.Object(
  {
    assertion: Type.Optional(
      Type.Object(
        {
          header: Type.String({
            maxLength: 128,
            default: DEFAULT_ASSERTION_HEADER,
            description:
              'Request header that carries the assertion. The sidecar removes it from what the app sends.',
            ...validations(
              rule(
                "self.matches('^[A-Za-z0-9-]+$')",
                'identity.assertion.header must be an HTTP header name',
              ),
              rule(
                "!self.matches('^(?i)(authorization|proxy-authorization|host|cookie|content-length|content-type|transfer-encoding|connection|x-api-key|api-key)$')",
                'identity.assertion.header must not be a standard HTTP header: name a dedicated one',
              ),
            ),
          }),
          audience: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 256,
              description:
                "Send the pod's projected service-account token for this audience. When omitted, the token obtained through credentials.workloadIdentity is sent.",
            }),
          ),
        },
        {
          additionalProperties: false,
          description: 'A token that proves which workload is calling, in a header of its own.',
        },
      ),
    ),
    trafficTags: Type.Boolean({
      default: false,
      description:
        "true: add `x-chaperone-namespace`, `x-chaperone-service-account` and `x-chaperone-request-id` (the workload's namespace and service account, and the audit record's request id).",
    }),
  },
  {
    additionalProperties: false,
    description:
      'What a generic provider (an internal gateway) learns about the calling workload. Headers of these names sent by the app are removed.',
  },
);

const Risk = Type.Object(
  {
    dataResidency: Type.Optional(RegionList('Regions where the provider processes and stores data.')),
    trainingOptOut: Type.Optional(
      Type.Boolean({ description: 'The provider contractually does not train on this traffic.' }),
    ),
    retentionDays: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 3650, description: 'How long the provider retains request data.' }),
    ),
  },
  {
    additionalProperties: false,
    description: "What is known of the provider's data handling, checked against spec.requirements.",
  },
);

const CircuitBreaker = Type.Object(
  {
    timeoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 600,
      default: 60,
      description: 'A request that takes longer counts as a failure and is aborted.',
    }),
    errorThresholdPercentage: Type.Integer({
      minimum: 1,
      maximum: 100,
      default: 50,
      description: 'Failure percentage over the rolling window at which the breaker opens.',
    }),
    volumeThreshold: Type.Integer({
      minimum: 1,
      maximum: 10000,
      default: 20,
      description: 'Requests in the window before the breaker may open.',
    }),
    resetSeconds: Type.Integer({
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'How long the breaker stays open before a half-open probe is let through.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Per-provider circuit breaker.' },
);

const Limits = Type.Object(
  {
    requestsPerMinute: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Requests per minute per pod.' }),
    ),
    tokensPerMinute: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Model tokens per minute per pod.' }),
    ),
    maxRequestBytes: Type.Integer({
      minimum: 1,
      maximum: 67_108_864,
      default: 1_048_576,
      description: 'Largest request body accepted, in bytes.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Rate and size limits, enforced per pod.' },
);

export const Provider = Type.Object(
  {
    name: Type.String({
      maxLength: 63,
      description:
        'Unique within the policy: the path segment on the sidecar (`http://127.0.0.1:15000/<name>/...`) and the name in logs and metrics.',
      ...validations(dnsLabel('provider name')),
    }),
    type: StringEnum(PROVIDER_TYPES, {
      description:
        "The provider's API: openai, anthropic, azure-openai, bedrock, vertex, or generic (an OpenAI-compatible or internal gateway).",
    }),
    endpoint: Type.String({
      maxLength: 2048,
      description: 'Upstream base URL (https). Its host is allowed implicitly.',
      ...validations(
        rule("self.startsWith('https://')", 'endpoint must be an https:// URL'),
        rule(
          "self.matches('^https://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(/[^?#@ ]*)?$')",
          'endpoint must be https://host[:port][/path] with a lowercase host and no credentials, query or fragment',
        ),
      ),
    }),
    allowedHosts: Type.Optional(
      Type.Array(HostPattern, {
        maxItems: 32,
        'x-kubernetes-list-type': 'set',
        description: 'Further hosts this provider may reach, also through the forward proxy (port 15001).',
      }),
    ),
    allowedCIDRs: Type.Optional(
      Type.Array(Cidr, {
        maxItems: 16,
        'x-kubernetes-list-type': 'set',
        description:
          "Private networks this provider's hosts may resolve to. By default loopback, private, link-local (cloud metadata), CGNAT and other special addresses are refused.",
      }),
    ),
    allowedPaths: Type.Optional(
      Type.Array(ApiPath, {
        maxItems: 64,
        'x-kubernetes-list-type': 'set',
        description: 'Request paths allowed; when omitted, the API paths of the provider type.',
      }),
    ),
    allowedMethods: Type.Array(StringEnum(HTTP_METHODS, { description: 'An HTTP method.' }), {
      maxItems: HTTP_METHODS.length,
      'x-kubernetes-list-type': 'set',
      default: ['GET', 'POST'],
      description: 'HTTP methods allowed.',
    }),
    allowedModels: Type.Optional(
      Type.Array(
        Type.String({
          minLength: 1,
          maxLength: 256,
          description: 'A model name; a trailing `*` matches a prefix.',
        }),
        {
          maxItems: 64,
          'x-kubernetes-list-type': 'set',
          description: 'Models that may be requested (read from the request body); when omitted, any model.',
        },
      ),
    ),
    credentials: Credentials,
    caBundle: Type.Optional(
      Type.String({
        maxLength: 65_536,
        description:
          'PEM CA certificates trusted for this endpoint (private gateways), instead of the public roots.',
        ...validations(
          rule("self.contains('-----BEGIN CERTIFICATE-----')", 'caBundle must hold PEM certificates'),
        ),
      }),
    ),
    risk: Type.Optional(Risk),
    circuitBreaker: CircuitBreaker,
    failover: Type.Optional(
      Type.Array(
        Type.String({ maxLength: 63, description: 'The name of another provider in this policy.' }),
        {
          maxItems: 4,
          'x-kubernetes-list-type': 'set',
          description:
            "Providers to use, in order, while this one's breaker is open or its kill switch engaged.",
        },
      ),
    ),
    killSwitch: Type.Boolean({
      default: false,
      description: 'true: every request to this provider is refused now.',
    }),
    limits: Limits,
    identity: Type.Optional(Identity),
  },
  {
    additionalProperties: false,
    description: 'An AI provider this workload may call.',
    ...validations(
      rule(
        "!has(self.credentials.workloadIdentity) || self.credentials.workloadIdentity.exchange != 'aws' || self.type == 'bedrock'",
        'workloadIdentity with exchange aws signs Bedrock requests (SigV4): the provider type must be bedrock',
      ),
      rule(
        "!has(self.identity) || self.type == 'generic'",
        'identity headers apply to generic providers only',
      ),
      rule(
        '!has(self.identity) || !has(self.identity.assertion) || has(self.identity.assertion.audience) || has(self.credentials.workloadIdentity)',
        'identity.assertion without an audience sends the workload identity token: set credentials.workloadIdentity or identity.assertion.audience',
      ),
    ),
  },
);

/**
 * The projected-token audiences a provider needs mounted in the sidecar: its workload identity's and
 * its identity assertion's. The webhook adds one token volume source for each.
 */
export function tokenAudiencesOf(provider: Static<typeof Provider>): string[] {
  const audiences = [provider.credentials.workloadIdentity?.audience, provider.identity?.assertion?.audience];
  return [...new Set(audiences.filter((a): a is string => a !== undefined && a !== ''))];
}
