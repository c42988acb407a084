// The policy in force. Swapped whole (compiled policy and credentials together) when a new one is
// applied; a rejected update leaves it in place and is remembered as lastError for /status.
import type { LoadedPolicy, PolicySource } from '../proxy/context.ts';

export interface PolicyError {
  at: string;
  source: string;
  message: string;
}

export type PolicyListener = (loaded: LoadedPolicy) => void;

export interface PolicyStoreOptions {
  /** Completes each loaded policy before it is applied (layers workload identity over its keys). */
  prepare?: (loaded: LoadedPolicy) => LoadedPolicy;
}

export class PolicyStore implements PolicySource {
  readonly #prepare: ((loaded: LoadedPolicy) => LoadedPolicy) | undefined;
  #current: LoadedPolicy | null = null;
  #generation = 0;
  #loadedAt: string | null = null;
  #source: string | null = null;
  #lastError: PolicyError | null = null;
  readonly #listeners: PolicyListener[] = [];

  constructor(options: PolicyStoreOptions = {}) {
    this.#prepare = options.prepare;
  }

  current(): LoadedPolicy | null {
    return this.#current;
  }

  /** Loads applied by this sidecar (1, 2, ...): the standalone stand-in for a controller generation. */
  get generation(): number {
    return this.#generation;
  }

  get loadedAt(): string | null {
    return this.#loadedAt;
  }

  get source(): string | null {
    return this.#source;
  }

  get lastError(): PolicyError | null {
    return this.#lastError;
  }

  apply(loaded: LoadedPolicy, source: string): void {
    this.#current = this.#prepare ? this.#prepare(loaded) : loaded;
    this.#generation++;
    this.#loadedAt = new Date().toISOString();
    this.#source = source;
    this.#lastError = null;
    for (const listener of this.#listeners) listener(this.#current);
  }

  reject(message: string, source: string): void {
    this.#lastError = { at: new Date().toISOString(), source, message };
  }

  onChange(listener: PolicyListener): void {
    this.#listeners.push(listener);
  }
}
