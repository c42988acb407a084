// Control-plane figures on a real local cluster, in one run:
// - kill-switch propagation: from the API write (PATCH) to the new bundle being in force in the
//   sidecars, p50/p99 over FLIPS flips, with 1 and with SIDECARS connected sidecars;
// - controller RSS with STREAMS simulated sidecar streams;
// - time for every sidecar to re-sync after the controller restarts.
// Sidecars are simulated with the real ControlClient (the sidecar's own stream client), each with
// a token issued by the TokenRequest API for its own pod. Run: `make bench-control-plane`.
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { CONTROLLER_TOKEN_AUDIENCE, GROUP, POLICY, VERSION } from '../api/src/names.ts';
import type { PolicyBundle } from '../api/src/bundle.ts';
import { clusterDown, clusterUp } from '../hack/cluster/launcher.ts';
import { ControlClient } from '../sidecar/src/control/client.ts';
import { ensurePolicyCrd } from '../test/helpers/crds.ts';
import { startController, type RunningController } from '../test/helpers/controller.ts';
import { createTestCa, writeServingFiles } from '../test/helpers/tls.ts';

const FLIPS = Number(process.env.FLIPS ?? 50);
const SIDECARS = Number(process.env.SIDECARS ?? 200);
const STREAMS = Number(process.env.STREAMS ?? 1000);
const NS = 'bench';
const policies = { group: GROUP, version: VERSION, plural: POLICY.plural, namespace: NS };

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

interface Sim {
  client: ControlClient;
  /** When the bundle of each policy generation was first applied. */
  applied: Map<number, number>;
  /** When the last bundle (of any revision) arrived: a reconnect re-sends the current one. */
  lastBundle: number;
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'chaperone-bench-cp-'));
  const state = await clusterUp({ stateDir: join(scratch, 'cluster'), watchPid: process.pid });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let controller: RunningController | undefined;
  const sims: Sim[] = [];
  try {
    await ensurePolicyCrd(kc);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    for (let i = 0; i < 100; i++) {
      try {
        await core.readNamespacedServiceAccount({ name: 'default', namespace: NS });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'key' }, stringData: { apiKey: 'sk-bench' } },
    });
    await custom.createNamespacedCustomObject({
      ...policies,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: POLICY.kind,
        metadata: { name: 'bench' },
        spec: {
          providers: [
            {
              name: 'openai',
              type: 'openai',
              endpoint: 'https://api.openai.com',
              credentials: { secretRef: { name: 'key', key: 'apiKey' } },
            },
          ],
        },
      },
    });

    const ca = await createTestCa();
    const files = writeServingFiles(join(scratch, 'tls'), await ca.issueServing());
    const start = (): Promise<RunningController> =>
      startController({
        kubeconfig: state.kubeconfig,
        ...files,
        args: ['--leader-elect', 'false'],
      });
    controller = await start();
    const url = `https://127.0.0.1:${controller.port}`;

    const connect = async (count: number): Promise<void> => {
      for (let i = sims.length; i < count; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, count - i) }, async (_, j) => {
            const name = `sim-${i + j}`;
            const pod = await core.createNamespacedPod({
              namespace: NS,
              body: {
                metadata: { name, labels: { app: 'bench' } },
                spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
              },
            });
            const { status } = await core.createNamespacedServiceAccountToken({
              name: 'default',
              namespace: NS,
              body: {
                spec: {
                  audiences: [CONTROLLER_TOKEN_AUDIENCE],
                  expirationSeconds: 3600,
                  boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name, uid: pod.metadata!.uid! },
                },
              },
            });
            const tokenFile = join(scratch, `${name}.token`);
            writeFileSync(tokenFile, status?.token ?? '');
            const sim: Sim = {
              applied: new Map(),
              lastBundle: 0,
              client: undefined as unknown as ControlClient,
            };
            sim.client = new ControlClient({
              url,
              tokenFile,
              pod: `${NS}/${name}`,
              ca: ca.caPem,
              onBundle: (bundle: PolicyBundle) => {
                sim.lastBundle = performance.now();
                const generation = bundle.policies[0]?.generation;
                if (generation !== undefined && !sim.applied.has(generation))
                  sim.applied.set(generation, performance.now());
                return true;
              },
            });
            sim.client.start();
            sims.push(sim);
          }),
        );
      }
      await waitFor(
        () => sims.every((s) => s.applied.size > 0),
        120_000,
        `${count} sidecars to receive a bundle`,
      );
    };

    const flips = async (label: string): Promise<string> => {
      const latencies: number[] = [];
      const slowest: number[] = [];
      for (let flip = 0; flip < FLIPS; flip++) {
        const written = performance.now();
        const updated = (await custom.patchNamespacedCustomObject(
          { ...policies, name: 'bench', body: { spec: { killSwitch: flip % 2 === 0 } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        )) as { metadata: { generation: number } };
        const generation = updated.metadata.generation;
        await waitFor(
          () => sims.every((s) => s.applied.has(generation)),
          30_000,
          `generation ${generation} everywhere`,
        );
        const times = sims.map((s) => s.applied.get(generation)! - written);
        latencies.push(...times);
        slowest.push(Math.max(...times));
      }
      return `| ${label} | ${sims.length} | ${FLIPS} | ${ms(percentile(latencies, 50))} | ${ms(percentile(latencies, 99))} | ${ms(percentile(slowest, 99))} |`;
    };

    const rows: string[] = [];
    await connect(1);
    rows.push(await flips('kill switch'));
    await connect(SIDECARS);
    rows.push(await flips('kill switch'));
    console.log('\n### Kill-switch propagation (API write → bundle in force in the sidecar)\n');
    console.log(
      '| change | sidecars | flips | p50 (every sidecar) | p99 (every sidecar) | p99 (last sidecar of a flip) |',
    );
    console.log('|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);

    const idle = rssMb(controller.child.pid!);
    await connect(STREAMS);
    const loaded = rssMb(controller.child.pid!);

    // Restart: every sidecar keeps its last bundle meanwhile and re-syncs on reconnect.
    const restarted = performance.now();
    await controller.stop();
    controller = await startController({
      kubeconfig: state.kubeconfig,
      ...files,
      port: Number(new URL(url).port),
      args: ['--leader-elect', 'false'],
    });
    await waitFor(() => sims.every((s) => s.lastBundle > restarted), 120_000, 'every sidecar to re-sync');
    const resync = performance.now() - restarted;

    console.log('\n### Controller\n');
    console.log('| figure | value |');
    console.log('|---|---|');
    console.log(`| RSS with ${SIDECARS} sidecar streams | ${idle.toFixed(0)} MB |`);
    console.log(`| RSS with ${sims.length} sidecar streams | ${loaded.toFixed(0)} MB |`);
    console.log(
      `| re-sync of ${sims.length} sidecars after a controller restart (SIGTERM → every sidecar has its bundle again) | ${ms(resync)} |`,
    );
  } finally {
    await Promise.all(sims.map((s) => s.client.stop()));
    await controller?.stop();
    await clusterDown(join(scratch, 'cluster'));
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

await main();
