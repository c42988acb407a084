// The sidecar's side of policy distribution: one authenticated Server-Sent Events stream to
// chaperone-controller. The projected token is re-read from its file on every connection (the
// kubelet rotates it); reconnects back off with jitter; the last good bundle stays in force while
// the controller is away; each applied bundle is acknowledged so status can count enforcement.
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Agent, RequestOptions } from 'node:https';
import { https } from '../builtins.ts';
import type { IncomingMessage } from 'node:http';
import { createParser } from 'eventsource-parser';
import {
  CONTROL_HEADERS,
  CONTROL_PATHS,
  type PolicyBundle,
  type SidecarReport,
} from '../../../api/src/bundle.ts';

export interface ControlClientOptions {
  /** Base URL of the controller, e.g. https://chaperone-controller.chaperone-system.svc. */
  url: string;
  tokenFile: string;
  /** `<namespace>/<pod>`, from the downward API. */
  pod: string;
  /** PEM CA that signed the controller's serving certificate. */
  ca?: string;
  /** Applies a bundle; resolve true when it is in force (then it is acknowledged). */
  onBundle(bundle: PolicyBundle): Promise<boolean> | boolean;
  onStateChange?(state: ControlState): void;
  backoff?: { initialMs: number; maxMs: number };
}

export interface ControlState {
  connected: boolean;
  /** Revision of the last bundle in force, if any. */
  revision?: string;
  lastError?: string;
  reconnects: number;
}

/**
 * Full-jitter exponential backoff, capped low: enforcement never depends on the stream (the last
 * good bundle stays in force), so the cap only bounds how stale a sidecar may get after an outage.
 */
export const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 5_000 };

export class ControlClient {
  private readonly options: ControlClientOptions;
  private readonly dispatcher: Agent;
  private readonly abort = new AbortController();
  private readonly state: ControlState = { connected: false, reconnects: 0 };
  private running?: Promise<void>;

  constructor(options: ControlClientOptions) {
    this.options = options;
    // node:https rather than undici: the sidecar loads only undici's Pool (see proxy/undici.ts), and
    // this client needs nothing more than one long-lived GET and small POSTs.
    this.dispatcher = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ...(options.ca && { ca: options.ca }),
    });
  }

  get status(): Readonly<ControlState> {
    return this.state;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    await this.running?.catch(() => undefined);
    this.dispatcher.destroy();
  }

  private update(patch: Partial<ControlState>): void {
    Object.assign(this.state, patch);
    this.options.onStateChange?.(this.state);
  }

  private async headers(): Promise<Record<string, string>> {
    const token = (await readFile(this.options.tokenFile, 'utf8')).trim();
    return { authorization: `Bearer ${token}`, [CONTROL_HEADERS.pod]: this.options.pod };
  }

  private async loop(): Promise<void> {
    const { initialMs, maxMs } = this.options.backoff ?? DEFAULT_BACKOFF;
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      try {
        await this.streamOnce(() => (attempt = 0));
        this.update({ connected: false, lastError: 'the controller ended the stream' });
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.update({ connected: false, lastError: (err as Error).message });
      }
      // Full jitter: many sidecars reconnecting after a controller restart spread out.
      const delay = Math.random() * Math.min(maxMs, initialMs * 2 ** attempt++);
      this.update({ reconnects: this.state.reconnects + 1 });
      await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
    this.update({ connected: false });
  }

  private send(path: string, options: RequestOptions, body?: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        new URL(path, this.options.url),
        { ...options, agent: this.dispatcher, signal: this.abort.signal },
        resolve,
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private async post(path: string, payload: unknown): Promise<number> {
    const body = JSON.stringify(payload);
    const response = await this.send(
      path,
      { method: 'POST', headers: { ...(await this.headers()), 'content-type': 'application/json' } },
      body,
    );
    response.resume();
    return response.statusCode ?? 0;
  }

  private async streamOnce(onConnected: () => void): Promise<void> {
    const response = await this.send(CONTROL_PATHS.stream, {
      method: 'GET',
      headers: { ...(await this.headers()), accept: 'text/event-stream' },
    });
    if (response.statusCode !== 200) {
      let body = '';
      for await (const chunk of response) body += (chunk as Buffer).toString();
      let code = `HTTP ${response.statusCode}`;
      try {
        code = (JSON.parse(body) as { code?: string }).code ?? code;
      } catch {
        // not JSON: keep the status
      }
      throw new Error(`the controller refused the stream: ${code}`);
    }
    onConnected();
    this.update({ connected: true, lastError: undefined });
    const pending: PolicyBundle[] = [];
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === 'bundle') pending.push(JSON.parse(event.data) as PolicyBundle);
      },
    });
    for await (const chunk of response) {
      parser.feed((chunk as Buffer).toString('utf8'));
      while (pending.length > 0) await this.apply(pending.shift()!);
    }
  }

  /** Sends breaker states and refusal counts; resolves false when the controller did not take it. */
  async report(report: SidecarReport): Promise<boolean> {
    if (!this.state.connected) return false;
    try {
      return (await this.post(CONTROL_PATHS.report, report)) === 204;
    } catch {
      return false;
    }
  }

  private async apply(bundle: PolicyBundle): Promise<void> {
    if (!(await this.options.onBundle(bundle))) return;
    this.update({ revision: bundle.revision });
    // Not awaited: the stream keeps being read while the acknowledgement travels (a lost one is
    // only a late count in status; the next bundle is acknowledged anyway).
    void this.post(CONTROL_PATHS.ack, { revision: bundle.revision }).catch(() => undefined);
  }
}
