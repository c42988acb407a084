// Pure decisions for renewing the webhook's generated certificate: when to rotate, which CAs the
// Secret's ca.crt carries afterwards, and what the MutatingWebhookConfiguration's caBundle must
// hold so that the old and the new certificate are both trusted while either may be served.
import { X509Certificate } from 'node:crypto';

const DAY_MS = 24 * 60 * 60 * 1000;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export const ROTATION_REASONS = {
  /** The Secret has no serving certificate. */
  MISSING: 'MISSING',
  /** The serving certificate does not parse. */
  UNREADABLE: 'UNREADABLE',
  /** Past its notAfter. */
  EXPIRED: 'EXPIRED',
  /** Fewer than renew-before days remain. */
  EXPIRING: 'EXPIRING',
  /** No CA in the Secret's ca.crt signed it: the webhook could not trust it. */
  UNTRUSTED: 'UNTRUSTED',
} as const;
export type RotationReason = (typeof ROTATION_REASONS)[keyof typeof ROTATION_REASONS];

export type RotationDecision =
  { rotate: false; reason: 'VALID'; renewAt: Date } | { rotate: true; reason: RotationReason };

/** The PEM blocks of a bundle, in order (anything between them is ignored). */
export function splitCertificates(pem: string | undefined): string[] {
  return (pem ?? '').match(PEM_CERTIFICATE) ?? [];
}

/** The certificates of a bundle that parse; unreadable blocks are dropped. */
export function parseCertificates(pem: string | undefined): X509Certificate[] {
  const parsed: X509Certificate[] = [];
  for (const block of splitCertificates(pem)) {
    try {
      parsed.push(new X509Certificate(block));
    } catch {
      // a corrupt block cannot anchor trust: leave it out
    }
  }
  return parsed;
}

function issued(ca: X509Certificate, leaf: X509Certificate): boolean {
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

function expired(cert: X509Certificate, now: Date): boolean {
  return cert.validToDate.getTime() <= now.getTime();
}

export interface RotationInput {
  /** PEM of the Secret's tls.crt (the leaf first). */
  certPem: string | undefined;
  /** PEM of the Secret's ca.crt. */
  caPem: string | undefined;
  now: Date;
  renewBeforeDays: number;
}

export function decideRotation({ certPem, caPem, now, renewBeforeDays }: RotationInput): RotationDecision {
  const first = splitCertificates(certPem)[0];
  if (first === undefined) return { rotate: true, reason: ROTATION_REASONS.MISSING };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first);
  } catch {
    return { rotate: true, reason: ROTATION_REASONS.UNREADABLE };
  }
  if (expired(leaf, now)) return { rotate: true, reason: ROTATION_REASONS.EXPIRED };
  const renewAt = new Date(leaf.validToDate.getTime() - renewBeforeDays * DAY_MS);
  if (now.getTime() >= renewAt.getTime()) return { rotate: true, reason: ROTATION_REASONS.EXPIRING };
  if (!parseCertificates(caPem).some((ca) => issued(ca, leaf)))
    return { rotate: true, reason: ROTATION_REASONS.UNTRUSTED };
  return { rotate: false, reason: 'VALID', renewAt };
}

/** The DNS names of the Secret's serving certificate, to issue its successor for the same names. */
export function certificateDnsNames(certPem: string | undefined): string[] {
  const leaf = parseCertificates(certPem)[0];
  return (leaf?.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('DNS:'))
    .map((name) => name.slice('DNS:'.length));
}

/** `<service>.<namespace>.svc` → the four names a Service is reached by. */
export function serviceDnsNames(host: string, clusterDomain: string): string[] {
  const [service, namespace] = host.split('.');
  if (!service || !namespace) return [host];
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${clusterDomain}`,
  ];
}

/**
 * The Secret's ca.crt after a rotation: the new CA first, then the CAs of the previous bundle that
 * signed the previous leaf and are not expired (it may still be served until every replica has
 * reloaded). When none of them can be shown to have signed it, every unexpired previous CA stays.
 */
export function nextCaBundle(
  newCaPem: string,
  previous: { certPem: string | undefined; caPem: string | undefined },
  now: Date,
): string {
  const live = parseCertificates(previous.caPem).filter((ca) => !expired(ca, now));
  let leaf: X509Certificate | undefined;
  try {
    const first = splitCertificates(previous.certPem)[0];
    leaf = first === undefined ? undefined : new X509Certificate(first);
  } catch {
    leaf = undefined;
  }
  const signers = leaf === undefined ? [] : live.filter((ca) => issued(ca, leaf));
  const kept = (signers.length > 0 ? signers : live).filter((ca) => !sameCert(ca, newCaPem));
  return joinPem([new X509Certificate(newCaPem).toString(), ...kept.map((ca) => ca.toString())]);
}

function sameCert(cert: X509Certificate, pem: string): boolean {
  try {
    return cert.fingerprint256 === new X509Certificate(pem).fingerprint256;
  } catch {
    return false;
  }
}

export interface WebhookBundle {
  pem: string;
  changed: boolean;
}

/**
 * What a webhook's caBundle must hold: the Secret's ca.crt, verbatim (the chart renders caBundle
 * from the same bytes, so a `helm upgrade` finds nothing to change and no field-manager conflict),
 * followed by the unexpired CAs it already trusts that ca.crt lacks. Nothing it trusts is removed
 * before it expires, so a replica that rotated a moment ago (its CA is in caBundle, not yet in the
 * Secret) is never cut off by another replica's pass.
 */
export function webhookCaBundle(current: string | undefined, required: string, now: Date): WebhookBundle {
  const requiredBlocks = splitCertificates(required);
  const wanted = parseCertificates(required);
  const seen = new Set(wanted.map((ca) => ca.fingerprint256));
  const extras = parseCertificates(current).filter((ca) => !expired(ca, now) && !seen.has(ca.fingerprint256));
  const verbatim = extras.length === 0 && wanted.length === requiredBlocks.length && wanted.length > 0;
  const pem = verbatim ? required : joinPem([...wanted, ...extras].map((ca) => ca.toString()));
  return { pem, changed: pem !== (current ?? '') };
}

/** caBundle without `withoutPem` (a CA this replica added and then lost the race to publish). */
export function removeFromBundle(current: string | undefined, withoutPem: string): string {
  return joinPem(
    parseCertificates(current)
      .filter((ca) => !sameCert(ca, withoutPem))
      .map((ca) => ca.toString()),
  );
}

function joinPem(blocks: readonly string[]): string {
  return blocks.map((block) => `${block.trim()}\n`).join('');
}
