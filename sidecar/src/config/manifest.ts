// Reads the one AIProviderPolicy out of a YAML (or JSON) file. Runs in the validator's child
// process (validate-child.ts), never in the sidecar itself.
import { parseAllDocuments } from 'yaml';
import { POLICY } from '../../../api/src/names.ts';

/** Parses a YAML (or JSON) file that holds exactly one AIProviderPolicy; other documents are ignored. */
export function parsePolicyManifest(
  text: string,
): { ok: true; manifest: unknown } | { ok: false; message: string } {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { ok: false, message: 'the file is not a YAML stream' };
  const policies: unknown[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0)
      return { ok: false, message: `YAML document ${i + 1}: ${doc.errors[0]!.message}` };
    const value: unknown = doc.toJS();
    if (value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === POLICY.kind)
      policies.push(value);
  }
  if (policies.length !== 1)
    return { ok: false, message: `the file must hold exactly one ${POLICY.kind} (found ${policies.length})` };
  return { ok: true, manifest: policies[0] };
}
