// The serving certificate, from files, reloaded when they change: a rotated certificate is served
// without a restart. The folders are watched (the kubelet updates a mounted Secret by swapping a
// `..data` symlink, which a watch on the file itself misses) and polled as a fallback. A new pair is
// installed only once the certificate and key load and match; otherwise the last good pair stays.
import { X509Certificate, createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { ChaperoneError, ERROR_CODES } from '../errors.ts';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the leaf certificate (for logs). */
  fingerprint: string;
  notAfter: string;
}

export function loadTlsMaterial(certFile: string, keyFile: string): TlsMaterial {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new ChaperoneError(
      ERROR_CODES.TLS_INVALID,
      `cannot read ${certFile} / ${keyFile}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return validateTlsMaterial(cert, key);
}

export function validateTlsMaterial(cert: string, key: string): TlsMaterial {
  try {
    // Throws unless both parse and the key belongs to the certificate.
    createSecureContext({ cert, key });
    const leaf = new X509Certificate(cert);
    return { cert, key, fingerprint: leaf.fingerprint256, notAfter: leaf.validTo };
  } catch (err) {
    throw new ChaperoneError(
      ERROR_CODES.TLS_INVALID,
      `unusable certificate/key pair: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

export interface TlsWatcherOptions {
  certFile: string;
  keyFile: string;
  initial: TlsMaterial;
  /** Fallback poll for file systems where watching misses changes. */
  pollIntervalMs?: number;
  onChange(material: TlsMaterial): void;
  /** A changed pair that cannot be used (yet): reported once per content. */
  onError(error: ChaperoneError): void;
}

export interface TlsWatcher {
  readonly current: TlsMaterial;
  /** Reads the files now; true when a new pair was installed. */
  check(): boolean;
  close(): void;
}

export function watchTlsFiles(options: TlsWatcherOptions): TlsWatcher {
  let current = options.initial;
  let lastRejected = '';
  let debounce: NodeJS.Timeout | undefined;

  const check = (): boolean => {
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(options.certFile, 'utf8');
      key = readFileSync(options.keyFile, 'utf8');
    } catch {
      return false; // mid-swap: a file is briefly missing; the next event or poll picks it up
    }
    if (cert === current.cert && key === current.key) return false;
    try {
      current = validateTlsMaterial(cert, key);
    } catch (err) {
      const digest = createHash('sha256').update(cert).update(key).digest('hex');
      if (digest !== lastRejected) {
        lastRejected = digest;
        options.onError(err as ChaperoneError);
      }
      return false;
    }
    options.onChange(current);
    return true;
  };

  const schedule = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(check, 50);
    debounce.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(options.certFile), dirname(options.keyFile)])) {
    try {
      const watcher = watch(dir, { persistent: false }, schedule);
      watcher.on('error', () => watcher.close()); // the poll keeps working
      watchers.push(watcher);
    } catch {
      // no watch support here: rely on the poll
    }
  }
  const poll = setInterval(check, options.pollIntervalMs ?? 10_000);
  poll.unref();

  return {
    get current() {
      return current;
    },
    check,
    close() {
      clearInterval(poll);
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}
