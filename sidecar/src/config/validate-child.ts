// Parses a policy file (YAML or JSON on stdin) and validates its AIProviderPolicy with the validator
// compiled from the API schema — defaults, structural schema, CEL rules — and prints the outcome as
// JSON on stdout. It runs as a short-lived child process: the YAML parser, the TypeBox compiler and
// the CEL runtime take ~40 MB of resident memory that the long-running sidecar, present in every
// pod, should not carry.
import { formatErrors, validatePolicy } from '../../../api/src/policy/validate.ts';
import { parsePolicyManifest } from './manifest.ts';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  let outcome: unknown;
  try {
    outcome = check(input);
  } catch (err) {
    outcome = { ok: false, message: `the validator failed: ${(err as Error).message}` };
  }
  process.stdout.write(JSON.stringify(outcome));
});

function check(text: string): unknown {
  const parsed = parsePolicyManifest(text);
  if (!parsed.ok) return parsed;
  const result = validatePolicy(parsed.manifest);
  return result.ok
    ? { ok: true, policy: result.policy }
    : { ok: false, message: `invalid policy:\n${formatErrors(result.errors)}` };
}
