// Validates one AIProviderPolicy manifest (JSON on stdin) with the validator compiled from the API
// schema — defaults, structural schema, CEL rules — and prints the outcome as JSON on stdout.
// It runs as a short-lived child process: the TypeBox compiler and the CEL runtime take ~30 MB
// of resident memory that the long-running sidecar, present in every pod, should not carry.
import { formatErrors, validatePolicy } from '../../../api/src/policy/validate.ts';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => (input += chunk));
process.stdin.on('end', () => {
  let outcome: unknown;
  try {
    const result = validatePolicy(JSON.parse(input) as unknown);
    outcome = result.ok
      ? { ok: true, policy: result.policy }
      : { ok: false, message: `invalid policy:\n${formatErrors(result.errors)}` };
  } catch (err) {
    outcome = { ok: false, message: `the validator failed: ${(err as Error).message}` };
  }
  process.stdout.write(JSON.stringify(outcome));
});
