import { describe, expect, it } from '@jest/globals';
import { BadRequestError } from '../errors.ts';
import { parseAdmissionReview } from './review.ts';

const valid = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'u',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation: 'CREATE',
    object: {},
  },
};

describe('parseAdmissionReview', () => {
  it('returns the request of a valid review', () => {
    expect(parseAdmissionReview(valid)).toBe(valid.request);
  });

  it.each([
    ['an array', [], /not a JSON object/],
    ['a string', 'x', /not a JSON object/],
    [
      'v1beta1',
      { ...valid, apiVersion: 'admission.k8s.io/v1beta1' },
      /admission.k8s.io\/v1beta1\/AdmissionReview/,
    ],
    ['another kind', { ...valid, kind: 'Pod' }, /apiVersion\/kind/],
    ['no request', { ...valid, request: undefined }, /request is missing/],
    ['no uid', { ...valid, request: { ...valid.request, uid: '' } }, /uid/],
    ['an unknown operation', { ...valid, request: { ...valid.request, operation: 'PATCH' } }, /operation/],
    ['no kind', { ...valid, request: { ...valid.request, kind: 'Pod' } }, /request.kind/],
    ['no resource', { ...valid, request: { ...valid.request, resource: undefined } }, /request.resource/],
  ])('refuses %s with NOT_AN_ADMISSION_REVIEW', (_title, body, message) => {
    let caught: unknown;
    try {
      parseAdmissionReview(body);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(BadRequestError);
    expect(caught).toMatchObject({ code: 'BAD_REQUEST', reason: 'NOT_AN_ADMISSION_REVIEW' });
    expect((caught as Error).message).toMatch(message);
  });
});
