// Precompiled matchers: exact values in a Set, `prefix*` patterns as a short list of prefixes, and
// host patterns (`name` or `*.suffix`, which matches on a label boundary and never the apex).

export interface Matcher {
  matches(value: string): boolean;
  /** The patterns, for reasons and /status. */
  readonly patterns: readonly string[];
}

/** Exact values, or a trailing `*` for a prefix. */
export function patternMatcher(patterns: readonly string[]): Matcher {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.endsWith('*')) prefixes.push(pattern.slice(0, -1));
    else exact.add(pattern);
  }
  return {
    patterns,
    matches(value) {
      if (exact.has(value)) return true;
      for (const prefix of prefixes) if (value.startsWith(prefix)) return true;
      return false;
    },
  };
}

/** Normalised host names against `host` / `*.domain` patterns (already lowercase ASCII). */
export function hostMatcher(patterns: readonly string[]): Matcher {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const pattern of patterns) {
    if (pattern.startsWith('*.')) suffixes.push(pattern.slice(1));
    else exact.add(pattern);
  }
  return {
    patterns,
    matches(host) {
      if (exact.has(host)) return true;
      for (const suffix of suffixes) if (host.length > suffix.length && host.endsWith(suffix)) return true;
      return false;
    },
  };
}
