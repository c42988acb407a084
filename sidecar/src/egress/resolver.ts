// Name resolution, injectable: tests simulate wildcard DNS, rebinding and mixed answers without
// real DNS. The sidecar resolves each name once per connection and dials only an address it checked.
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import type { BlockList } from 'node:net';
import { RefusalError } from '../../../api/src/refusals.ts';
import { classifyAddress } from './address.ts';
import { egressRefusal } from './refuse.ts';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) => {
  const answers = await lookup(host, { all: true, order: 'verbatim' });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

export interface AddressPolicy {
  /** The provider's allowedCIDRs. */
  allowed: BlockList | undefined;
  /** Ports the sidecar itself listens on: never a destination on a local address. */
  selfPorts: ReadonlySet<number>;
  policy?: string | null;
  provider?: string | null;
}

function localAddresses(): Set<string> {
  const local = new Set(['0.0.0.0', '::', '127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const nic of list ?? []) local.add(nic.address);
  return local;
}

function isSelf(address: string, port: number, selfPorts: ReadonlySet<number>): boolean {
  if (!selfPorts.has(port)) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain.startsWith('127.') || localAddresses().has(plain) || localAddresses().has(address);
}

/**
 * Resolves `host` once and checks every answer: one refused address refuses the destination (a
 * wildcard or rebinding answer mixing public and private addresses is not "partly fine").
 */
export async function resolveChecked(
  host: string,
  port: number,
  resolver: Resolver,
  policy: AddressPolicy,
  timeoutMs: number,
): Promise<ResolvedAddress[]> {
  const details = { policy: policy.policy ?? null, provider: policy.provider ?? null };
  let answers: ResolvedAddress[];
  try {
    answers = await withTimeout(resolver(host), timeoutMs, `resolving ${host} took over ${timeoutMs} ms`);
  } catch (err) {
    if (err instanceof RefusalError) throw err;
    const code = (err as { code?: string }).code ?? (err as Error).message;
    throw new RefusalError('UPSTREAM_ERROR', `could not resolve ${host}: ${code}`, {
      ...details,
      cause: err,
    });
  }
  if (answers.length === 0)
    throw new RefusalError('UPSTREAM_ERROR', `${host} resolved to no address`, details);
  for (const answer of answers) {
    const verdict = classifyAddress(answer.address, policy.allowed);
    if (!verdict.allowed)
      throw egressRefusal(
        'address',
        `${host} resolved to ${verdict.reason}; list the network in allowedCIDRs if it is intended`,
        'EGRESS_DENIED',
        details,
      );
    if (isSelf(answer.address, port, policy.selfPorts))
      throw egressRefusal(
        'self-connection',
        `${host}:${port} resolves to the sidecar itself (${answer.address})`,
        'EGRESS_DENIED',
        details,
      );
  }
  return answers;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RefusalError('UPSTREAM_ERROR', message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
