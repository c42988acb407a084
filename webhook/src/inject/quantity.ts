// Kubernetes resource quantities (`500m`, `1.5`, `256Mi`, `1e3`): the apiserver's grammar, parsed
// to a number only to compare a request with its limit.

const QUANTITY =
  /^(\+?[0-9]+(?:\.[0-9]*)?|\+?\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity, or undefined when `text` is not one (negative values are refused). */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, number, suffix] = match;
  const base = Number(number);
  if (suffix === undefined) return base;
  if (suffix.startsWith('e') || suffix.startsWith('E')) return base * 10 ** Number(suffix.slice(1));
  return base * (SUFFIX[suffix] ?? Number.NaN);
}
