// Projected service-account tokens, read from the files the kubelet maintains. The kubelet writes a
// new token at 80% of its lifetime by swapping a symlinked directory (`..data`), so the file is
// re-read by path (never held open) at most every `recheckMs`, and at once when the token in hand is
// near its end. A token past its `exp` is never returned. A token past 90% of its lifetime means the
// kubelet has stopped refreshing the file: that is reported (once per token) so someone looks.
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import { IdentityError, type IdentityErrorCode } from './errors.ts';

/** Lifetime fraction after which the kubelet should have written a new token (it does at 80%). */
export const STALE_FRACTION = 0.9;
/** A token this close to `exp` is treated as expired: it could lapse before the request lands. */
export const EXPIRY_SKEW_MS = 5_000;
export const DEFAULT_RECHECK_MS = 10_000;

export type TokenState = 'fresh' | 'stale' | 'expired';

export interface TokenTimes {
  /** Epoch ms. */
  issuedAt: number;
  expiresAt: number;
}

/** Where a token stands in its lifetime. Pure. */
export function tokenState(times: TokenTimes, now: number): TokenState {
  if (now >= times.expiresAt - EXPIRY_SKEW_MS) return 'expired';
  const lifetime = times.expiresAt - times.issuedAt;
  return now >= times.issuedAt + lifetime * STALE_FRACTION ? 'stale' : 'fresh';
}

export interface ReadToken extends TokenTimes {
  token: string;
  audience: string;
  file: string;
  state: TokenState;
}

export interface StaleTokenReport {
  audience: string;
  file: string;
  state: Exclude<TokenState, 'fresh'>;
  expiresAt: number;
}

export interface ProjectedTokenOptions {
  recheckMs?: number;
  now?: () => number;
  /** Called once per token that is found stale or expired (the file stopped being refreshed). */
  onStale?: (report: StaleTokenReport) => void;
}

/** Parses a token file's content; throws IdentityError when it is not a JWT for `audience`. */
export function parseProjectedToken(
  text: string,
  audience: string,
  file: string,
): TokenTimes & { token: string } {
  const token = text.trim();
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new IdentityError('TOKEN_UNREADABLE', `the token file ${file} does not hold a JWT`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(audience))
    throw new IdentityError('TOKEN_UNREADABLE', `the token in ${file} is not for audience ${audience}`);
  if (typeof claims.exp !== 'number')
    throw new IdentityError('TOKEN_UNREADABLE', `the token in ${file} has no exp claim`);
  const expiresAt = claims.exp * 1000;
  // Without iat, assume the longest lifetime the webhook requests so staleness is never over-reported.
  const issuedAt = typeof claims.iat === 'number' ? claims.iat * 1000 : expiresAt - 86_400_000;
  return { token, issuedAt, expiresAt };
}

/** One audience's token file. */
export class ProjectedToken {
  readonly audience: string;
  readonly file: string;
  readonly #recheckMs: number;
  readonly #now: () => number;
  readonly #onStale: ((report: StaleTokenReport) => void) | undefined;
  #cached: (TokenTimes & { token: string }) | undefined;
  #readAt = -Infinity;
  #reading: Promise<TokenTimes & { token: string }> | undefined;
  #reportedFor = '';

  constructor(audience: string, file: string, options: ProjectedTokenOptions = {}) {
    this.audience = audience;
    this.file = file;
    this.#recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
    this.#now = options.now ?? Date.now;
    this.#onStale = options.onStale;
  }

  /** The current token; throws IdentityError when the file is unreadable or its token expired. */
  async read(): Promise<ReadToken> {
    const now = this.#now();
    let current = this.#cached;
    if (!current || now - this.#readAt >= this.#recheckMs || tokenState(current, now) === 'expired')
      current = await this.#reread(now);
    const state = tokenState(current, this.#now());
    this.#report(current, state);
    if (state === 'expired')
      throw new IdentityError(
        'TOKEN_EXPIRED',
        `the projected token for audience ${this.audience} in ${this.file} expired at ${new Date(current.expiresAt).toISOString()}: the kubelet has stopped refreshing it`,
      );
    return { ...current, audience: this.audience, file: this.file, state };
  }

  /** The token last read, if any (the proxy scrubs it from what reaches the app). */
  get current(): string | undefined {
    return this.#cached?.token;
  }

  /** Reads the file now (the periodic health check), reporting a stale or expired token. */
  async check(): Promise<TokenState> {
    const current = await this.#reread(this.#now());
    const state = tokenState(current, this.#now());
    this.#report(current, state);
    return state;
  }

  #reread(now: number): Promise<TokenTimes & { token: string }> {
    // Concurrent callers share one read.
    this.#reading ??= readFile(this.file, 'utf8')
      .then(
        (text) => {
          const parsed = parseProjectedToken(text, this.audience, this.file);
          this.#cached = parsed;
          this.#readAt = now;
          return parsed;
        },
        (err: NodeJS.ErrnoException) => {
          throw new IdentityError(
            'TOKEN_UNREADABLE',
            `cannot read the projected token for audience ${this.audience} from ${this.file} (${err.code ?? err.message})`,
            { cause: err },
          );
        },
      )
      .finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  #report(times: TokenTimes, state: TokenState): void {
    if (state === 'fresh') return;
    const key = `${times.expiresAt}:${state}`;
    if (key === this.#reportedFor) return;
    this.#reportedFor = key;
    this.#onStale?.({ audience: this.audience, file: this.file, state, expiresAt: times.expiresAt });
  }
}

/** The pod's projected tokens, by audience (from CHAPERONE_TOKEN_FILES or --identity-token). */
export class ProjectedTokens {
  readonly #tokens = new Map<string, ProjectedToken>();

  constructor(files: ReadonlyMap<string, string>, options: ProjectedTokenOptions = {}) {
    for (const [audience, file] of files)
      this.#tokens.set(audience, new ProjectedToken(audience, file, options));
  }

  audiences(): string[] {
    return [...this.#tokens.keys()];
  }

  read(audience: string): Promise<ReadToken> {
    const token = this.#tokens.get(audience);
    if (!token)
      return Promise.reject(
        new IdentityError(
          'NO_TOKEN_FOR_AUDIENCE',
          `no projected token is mounted for audience ${audience}: the pod was created before a policy needed it; restart the pod so the webhook adds it`,
        ),
      );
    return token.read();
  }

  /** The tokens read so far, one per audience. */
  currentTokens(): string[] {
    const out: string[] = [];
    for (const token of this.#tokens.values()) if (token.current !== undefined) out.push(token.current);
    return out;
  }

  /** Re-reads every file; resolves to each audience's state, or the error code of an unreadable file. */
  async check(): Promise<Map<string, TokenState | IdentityErrorCode>> {
    const states = new Map<string, TokenState | IdentityErrorCode>();
    for (const [audience, token] of this.#tokens)
      states.set(
        audience,
        await token
          .check()
          .catch((err: unknown) => (err instanceof IdentityError ? err.code : 'TOKEN_UNREADABLE')),
      );
    return states;
  }
}
