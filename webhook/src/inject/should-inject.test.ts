import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { ERROR_CODES, InvalidOverrideError } from '../errors.ts';
import { shouldInject } from './should-inject.ts';

const CONTROLLER_NS = 'chaperone-system';
const ENABLED = { 'chaperone.dev/injection': 'enabled' };
const DISABLED = { 'chaperone.dev/injection': 'disabled' };

function pod(inject?: string, hostNetwork = false): V1Pod {
  return {
    metadata: inject === undefined ? {} : { annotations: { 'chaperone.dev/inject': inject } },
    spec: { hostNetwork, containers: [{ name: 'app' }] },
  };
}

describe('shouldInject', () => {
  it.each([
    ['annotation true, plain namespace', pod('true'), 'apps', {}, true, 'POD_OPTED_IN'],
    ['no annotation, plain namespace', pod(), 'apps', {}, false, 'NOT_OPTED_IN'],
    ['no annotation, namespace enabled', pod(), 'apps', ENABLED, true, 'NAMESPACE_OPTED_IN'],
    ['annotation true, namespace enabled', pod('true'), 'apps', ENABLED, true, 'POD_OPTED_IN'],
    ['annotation false wins over namespace enabled', pod('false'), 'apps', ENABLED, false, 'POD_OPTED_OUT'],
    ['annotation false, plain namespace', pod('false'), 'apps', {}, false, 'POD_OPTED_OUT'],
    [
      'namespace disabled wins over annotation true',
      pod('true'),
      'apps',
      DISABLED,
      false,
      'NAMESPACE_DISABLED',
    ],
    [
      'namespace label with another value',
      pod(),
      'apps',
      { 'chaperone.dev/injection': 'true' },
      false,
      'NOT_OPTED_IN',
    ],
    ['kube-system, annotated', pod('true'), 'kube-system', ENABLED, false, 'KUBE_SYSTEM_NAMESPACE'],
    ['controller namespace, annotated', pod('true'), CONTROLLER_NS, ENABLED, false, 'CONTROLLER_NAMESPACE'],
    ['host network, annotated', pod('true', true), 'apps', {}, false, 'HOST_NETWORK'],
    ['host network, not opted in', pod(undefined, true), 'apps', {}, false, 'NOT_OPTED_IN'],
  ])('%s', (_title, input, namespace, labels, inject, reason) => {
    expect(shouldInject(input, { name: namespace, labels }, CONTROLLER_NS)).toEqual({ inject, reason });
  });

  it.each(['yes', 'True', '1', ''])('refuses inject annotation %j with INVALID_OVERRIDE', (value) => {
    let caught: unknown;
    try {
      shouldInject(pod(value), { name: 'apps', labels: {} }, CONTROLLER_NS);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidOverrideError);
    expect((caught as InvalidOverrideError).code).toBe(ERROR_CODES.INVALID_OVERRIDE);
    expect((caught as InvalidOverrideError).annotation).toBe('chaperone.dev/inject');
  });

  it('does not validate the annotation of pods it never injects (kube-system)', () => {
    expect(shouldInject(pod('yes'), { name: 'kube-system', labels: {} }, CONTROLLER_NS).reason).toBe(
      'KUBE_SYSTEM_NAMESPACE',
    );
  });
});
