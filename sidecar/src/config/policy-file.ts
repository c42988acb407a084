// Standalone mode: an AIProviderPolicy manifest from a file, parsed and validated by the validator
// compiled from the API schema (defaults, schema, CEL rules — in a short-lived child process, see
// validate-child.ts), compiled, and its secretRef keys read from a directory laid out as mounted
// Secret volumes: `<secrets-dir>/<secret name>/<key>`.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AIProviderPolicy } from '../../../api/src/policy/index.ts';
import type { FieldError } from '../../../api/src/policy/validate.ts';
import { StaticCredentials } from '../credentials/source.ts';
import { compileGuards } from '../guards/policy.ts';
import { compilePolicy, type CompiledPolicy } from '../policy/compile.ts';
import type { LoadedPolicy } from '../proxy/context.ts';

export type PolicyFileResult = { ok: true; loaded: LoadedPolicy } | { ok: false; message: string };

const SECRET_SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KEY_SEGMENT = /^[-._a-zA-Z0-9]+$/;

// As api/src/policy/validate.ts formats them; not imported from there, which would load the validator.
const formatErrors = (errors: FieldError[]): string =>
  errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('\n');

// Beside this module: config/validate-child.ts in the sources (.js in tsc's output); in the bundle,
// where this module is part of main.js, the validator's own bundle, written beside main.js
// (hack/bundle-sidecar.ts, which fails if this module ever leaves main.js).
const VALIDATOR = fileURLToPath(new URL(`./validate-child${extname(import.meta.url)}`, import.meta.url));
const VALIDATION_TIMEOUT_MS = 30_000;

type Validated = { ok: true; policy: AIProviderPolicy } | { ok: false; message: string };

/**
 * parsePolicyManifest() and validatePolicy() in a child process (same Node, same code), so the YAML
 * parser, the schema and the CEL runtime never stay resident in the sidecar.
 */
export function validateManifest(text: string): Promise<Validated> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [VALIDATOR], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), VALIDATION_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.on('error', (e) => resolve({ ok: false, message: `cannot run the validator: ${e.message}` }));
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as Validated);
      } catch {
        resolve({ ok: false, message: `the validator exited with ${code}: ${err.trim().slice(0, 500)}` });
      }
    });
    child.stdin.end(text);
  });
}

// The last text validated and its outcome: a reload that finds the same text (a poll, a touch, a
// Secret rotation) re-reads the keys without starting a validator.
let lastValidation: { text: string; outcome: Promise<Validated> } | undefined;

function validateOnce(text: string): Promise<Validated> {
  if (lastValidation?.text !== text) lastValidation = { text, outcome: validateManifest(text) };
  return lastValidation.outcome;
}

async function readKeys(
  policy: CompiledPolicy,
  secretsDir: string | undefined,
): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const provider of policy.providers) {
    if (provider.credentials.kind !== 'secret') continue;
    const { name, key } = provider.credentials;
    const where = `${provider.rule}.credentials.secretRef`;
    if (secretsDir === undefined)
      throw new Error(`${where}: provider ${provider.name} needs secret ${name}/${key}: pass --secrets-dir`);
    if (!SECRET_SEGMENT.test(name) || !KEY_SEGMENT.test(key) || key === '.' || key === '..')
      throw new Error(`${where}: ${name}/${key} is not a valid Secret name and key`);
    let value: string;
    try {
      value = await readFile(join(secretsDir, name, key), 'utf8');
    } catch (err) {
      throw new Error(
        `${where}: cannot read ${join(secretsDir, name, key)} (${(err as NodeJS.ErrnoException).code})`,
        {
          cause: err,
        },
      );
    }
    // `kubectl create secret --from-file` and editors leave a final newline; a key never has one.
    value = value.replace(/\r?\n$/, '');
    if (value === '' || /[\r\n\0]/.test(value))
      throw new Error(`${where}: ${name}/${key} is empty or spans several lines`);
    keys.set(provider.name, value);
  }
  return keys;
}

export async function loadPolicyFile(
  file: string,
  secretsDir: string | undefined,
): Promise<PolicyFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code})` };
  }
  const validated = await validateOnce(text);
  if (!validated.ok) return validated;
  const compiled = compilePolicy(validated.policy);
  if (!compiled.ok) return { ok: false, message: `invalid policy:\n${formatErrors(compiled.errors)}` };
  try {
    const keys = await readKeys(compiled.policy, secretsDir);
    return {
      ok: true,
      loaded: {
        policy: compiled.policy,
        credentials: new StaticCredentials(compiled.policy, keys),
        guards: compileGuards(validated.policy.spec),
      },
    };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}
