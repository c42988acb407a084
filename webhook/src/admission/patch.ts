// The admission patch is the JSON-patch difference between the pod as received and the desired
// pod, computed by fast-json-patch: never assembled by hand.
import jsonpatch, { type Operation } from 'fast-json-patch';

export function diffPatch(original: object, desired: object): Operation[] {
  return jsonpatch.compare(original, desired);
}

export function encodePatch(operations: readonly Operation[]): string {
  return Buffer.from(JSON.stringify(operations)).toString('base64');
}
