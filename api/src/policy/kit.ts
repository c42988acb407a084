// Small builders for the AIProviderPolicy schema: they keep every field described and every
// CEL rule paired with the message a user sees when the apiserver (or the local validator)
// rejects a manifest.
import Type, { type TArray, type TString, type TUnsafe } from 'typebox';

/** A Kubernetes CEL validation rule (`x-kubernetes-validations` entry). */
export interface CelRule {
  rule: string;
  message: string;
}

export const rule = (expression: string, message: string): CelRule => ({ rule: expression, message });

/** `x-kubernetes-validations` for a schema's options. */
export const validations = (...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } => ({
  'x-kubernetes-validations': rules,
});

/**
 * A string restricted to `values`. Written as `{type: string, enum}` rather than a union of
 * literals, because CRD schemas must be structural (no anyOf of consts).
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A map of string to string (labels), as Kubernetes declares it. */
export const StringMap = (description: string): TUnsafe<Record<string, string>> =>
  Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 253 },
    maxProperties: 64,
    description,
  });

export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const dnsLabel = (what: string): CelRule =>
  rule(
    `self.matches('${DNS_LABEL}')`,
    `${what} must be a DNS label: lowercase letters, digits and '-', starting and ending with a letter or digit`,
  );

/** Region codes such as `eu`, `us`, `eu-west`, `us-east-1`. */
export const RegionList = (description: string): TArray<TString> =>
  Type.Array(
    Type.String({
      maxLength: 32,
      description: 'A region code: `eu`, `us`, `eu-west`, `us-east-1`, ...',
      ...validations(
        rule(
          "self.matches('^[a-z]{2,}(-[a-z0-9]+)*$')",
          "region codes are lowercase words joined by '-', such as eu, us or eu-west-1",
        ),
      ),
    }),
    { description, maxItems: 32, 'x-kubernetes-list-type': 'set' },
  );
