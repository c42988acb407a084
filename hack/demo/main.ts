// `make demo`: Chaperone end to end on a local control plane, as a user would drive it — Helm,
// kubectl, an annotated Deployment, the official OpenAI SDK. No kubelet runs containers here, so the
// controller and the pod's sidecar run as local processes; everything else is the real thing.
// CI=true: no pauses (that mode runs inside `make test`).
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { clusterDown, clusterUp, REPO_ROOT, scratchDir } from '../cluster/launcher.ts';
import { startController, type RunningController } from '../../test/helpers/controller.ts';
import { startSidecarProcess, type RunningSidecar } from '../../test/helpers/sidecar-process.ts';
import { createTestCa, writeServingFiles } from '../../test/helpers/tls.ts';
import { startOpenAiMock } from '../../test/mocks/openai.ts';
import { mockPki } from '../../test/mocks/pki.ts';
import type { MockProvider } from '../../test/mocks/provider.ts';

const run = promisify(execFile);
const CI = process.env.CI === 'true';
const NS = 'shop';
const SYSTEM_NS = 'chaperone-system';
const KEY = 'sk-demo-9f3b2c7d';
const bold = (s: string): string => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string): string => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const indent = (text: string): string => text.trimEnd().replace(/^/gm, '    ');
let stepNo = 0;
const STEPS = 9;

async function step(title: string): Promise<void> {
  if (!CI && stepNo > 0) await new Promise((r) => setTimeout(r, 800));
  stepNo++;
  console.log(`\n${bold(`▶ ${stepNo}/${STEPS}  ${title}`)}`);
}
const say = (text: string): void => console.log(indent(text));

let kubeconfig = '';
async function tool(bin: 'kubectl' | 'helm', args: string[], show = true): Promise<string> {
  if (show) console.log(dim(`    $ ${bin} ${args.join(' ')}`));
  const { stdout } = await run(join(REPO_ROOT, 'bin', bin), ['--kubeconfig', kubeconfig, ...args], {
    timeout: 60_000,
    maxBuffer: 8 << 20,
  });
  if (show && stdout.trim()) console.log(indent(stdout));
  return stdout;
}

async function kubectlApply(yaml: string, file: string): Promise<void> {
  writeFileSync(file, yaml);
  await tool('kubectl', ['apply', '-f', file], true);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What a plain CONNECT through the sidecar's forward proxy answers (curl -x would show the same). */
function connectThrough(proxyPort: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'CONNECT', path: target });
    req.on('connect', (res, socket, head) => {
      let body = head.toString();
      socket.on('data', (c: Buffer) => (body += c.toString()));
      socket.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      if (res.statusCode === 200) socket.end();
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<void> {
  const scratch = scratchDir('demo-');
  const stateDir = join(scratch, 'cluster');
  let controller: RunningController | undefined;
  let sidecar: RunningSidecar | undefined;
  let mock: MockProvider | undefined;
  console.log(bold('Chaperone — a zero-trust escort for AI provider calls from Kubernetes workloads'));
  try {
    await step('Start a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager)');
    const cluster = await clusterUp({ stateDir, watchPid: process.pid });
    kubeconfig = cluster.kubeconfig;
    say(
      `ready in ${(cluster.readyAfterMs / 1000).toFixed(1)} s at ${cluster.server} (built from pinned Go modules into bin/)`,
    );

    await step('Install the Helm chart');
    const controllerPort = await freePort();
    const ca = await createTestCa('chaperone-demo-controller-ca');
    const tls = writeServingFiles(join(scratch, 'controller-tls'), await ca.issueServing());
    writeFileSync(join(scratch, 'controller-tls', 'ca.crt'), ca.caPem);
    say(
      'No kubelet runs containers here: the controller runs as a local process and the chart points the webhook at it.',
    );
    await tool(
      'helm',
      [
        'install',
        'chaperone',
        'charts/chaperone',
        '-n',
        SYSTEM_NS,
        '--create-namespace',
        '--set',
        `webhook.url=https://127.0.0.1:${controllerPort}/mutate`,
        '--set-file',
        `webhook.caBundle=${join(scratch, 'controller-tls', 'ca.crt')}`,
      ].map(String),
      false,
    ).then((out) =>
      say(
        out
          .split('\n')
          .filter((l) => /^(NAME|STATUS|REVISION):/.test(l))
          .join('\n'),
      ),
    );
    await tool('kubectl', [
      'get',
      'crd,mutatingwebhookconfiguration',
      '-l',
      'app.kubernetes.io/name=chaperone',
    ]);

    await step('Start chaperone-controller (admission webhook + policy control plane)');
    controller = await startController({
      kubeconfig,
      ...tls,
      port: controllerPort,
      args: ['--namespace', SYSTEM_NS, '--controller-url', `https://127.0.0.1:${controllerPort}`],
    });
    say(`listening on https://127.0.0.1:${controller.port} (/mutate, /v1/sidecar/stream)`);

    await step('Declare an AIProviderPolicy for the checkout app');
    const pki = await mockPki();
    mock = await startOpenAiMock({ acceptKeys: [KEY] });
    say(
      `A local HTTPS server speaking the OpenAI API stands in for api.openai.com (openai.mock.test:${mock.port}).`,
    );
    await tool('kubectl', ['create', 'namespace', NS], false);
    await tool('kubectl', ['label', 'namespace', NS, 'chaperone.dev/injection=enabled'], false);
    await waitUntil('the default ServiceAccount', () =>
      tool('kubectl', ['get', 'sa', 'default', '-n', NS], false),
    );
    await tool(
      'kubectl',
      ['create', 'secret', 'generic', 'openai-key', '-n', NS, `--from-literal=apiKey=${KEY}`],
      false,
    );
    say(
      dim(
        '$ kubectl create secret generic openai-key -n shop --from-literal=apiKey=sk-demo-…   (only the sidecar ever sees it)',
      ),
    );
    const policyYaml = `apiVersion: chaperone.dev/v1alpha1
kind: AIProviderPolicy
metadata: {name: checkout-openai, namespace: ${NS}}
spec:
  podSelector: {matchLabels: {app: checkout}}
  providers:
    - name: openai
      type: openai
      endpoint: https://openai.mock.test:${mock.port}
      allowedCIDRs: ["127.0.0.1/32"]      # the mock runs on loopback; private ranges are refused by default
      allowedPaths: ["/v1/chat/completions"]
      allowedModels: ["gpt-4o-mini"]
      credentials: {secretRef: {name: openai-key, key: apiKey}}
      caBundle: |
${pki.ca.trimEnd().replace(/^/gm, '        ')}
`;
    say(
      policyYaml
        .split('\n')
        .filter((l) => !/^\s{8}|caBundle/.test(l))
        .join('\n'),
    );
    await kubectlApply(policyYaml, join(scratch, 'policy.yaml'));
    await waitUntil('the policy to be accepted', async () =>
      (await tool(
        'kubectl',
        ['get', 'aipp', 'checkout-openai', '-n', NS, '-o', 'jsonpath={.status.providers}'],
        false,
      )) === 'openai'
        ? true
        : undefined,
    );
    await tool('kubectl', ['get', 'aipp', '-n', NS]);

    await step('Deploy the app: the webhook injects the sidecar');
    await kubectlApply(
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: ${NS}}
spec:
  replicas: 1
  selector: {matchLabels: {app: checkout}}
  template:
    metadata:
      labels: {app: checkout}
      annotations: {chaperone.dev/inject: "true"}
    spec:
      containers: [{name: app, image: registry.example/checkout:1.0}]
`,
      join(scratch, 'deployment.yaml'),
    );
    const podName = await waitUntil(
      'the pod',
      async () =>
        (await tool(
          'kubectl',
          ['get', 'pods', '-n', NS, '-l', 'app=checkout', '-o', 'jsonpath={.items[0].metadata.name}'],
          false,
        )) || undefined,
    );
    await tool('kubectl', [
      'get',
      'pod',
      podName,
      '-n',
      NS,
      '-o',
      'custom-columns=POD:.metadata.name,STATUS:.status.phase,SIDECAR:.spec.initContainers[*].name,RESTART:.spec.initContainers[*].restartPolicy,APP:.spec.containers[*].name',
    ]);
    const env = await tool(
      'kubectl',
      [
        'get',
        'pod',
        podName,
        '-n',
        NS,
        '-o',
        'jsonpath={range .spec.containers[0].env[*]}{.name}={.value}{"\\n"}{end}',
      ],
      false,
    );
    say('The app container gets only endpoints and a placeholder key — never the credential:');
    say(
      env
        .split('\n')
        .filter((l) => /^(OPENAI_|HTTPS_PROXY)/.test(l))
        .join('\n'),
    );
    if (env.includes(KEY)) throw new Error('demo: the API key reached the app container');

    await step("Start the pod's sidecar with a token bound to that pod");
    const token = (
      await tool(
        'kubectl',
        [
          'create',
          'token',
          'default',
          '-n',
          NS,
          '--audience',
          'chaperone.dev/controller',
          '--bound-object-kind',
          'Pod',
          '--bound-object-name',
          podName,
          '--duration',
          '10m',
        ],
        false,
      )
    ).trim();
    const tokenFile = join(scratch, 'token');
    writeFileSync(tokenFile, token);
    say(
      dim(
        '$ kubectl create token default --audience chaperone.dev/controller --bound-object-kind Pod --bound-object-name ' +
          podName,
      ),
    );
    sidecar = await startSidecarProcess([
      '--controller-url',
      `https://127.0.0.1:${controller.port}`,
      '--controller-ca',
      join(scratch, 'controller-tls', 'ca.crt'),
      '--token-file',
      tokenFile,
      '--pod',
      `${NS}/${podName}`,
      '--resolve',
      'openai.mock.test=127.0.0.1',
    ]);
    const ports = sidecar.ports;
    await waitUntil('the sidecar to be ready', async () => {
      const res = await fetch(`http://127.0.0.1:${ports.admin}/readyz`);
      return res.status === 200 ? true : undefined;
    });
    say(
      `ready: the controller streamed the pod's policy and the Secret's key to the sidecar (providers :${ports.providers}, proxy :${ports.forwardProxy})`,
    );

    await step('Call the provider through the sidecar with the official OpenAI SDK');
    const client = new OpenAI({
      baseURL: `http://127.0.0.1:${ports.providers}/openai/v1`,
      apiKey: 'placeholder',
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Where is order 1234?' }],
    });
    say(`allowed  → ${completion.choices[0]?.message.content ?? ''}`);
    say(
      `           the provider saw: Authorization: Bearer ${mock.requests.at(-1)?.headers.authorization === `Bearer ${KEY}` ? 'sk-demo-… (from the Secret, added by the sidecar)' : '(unexpected)'}`,
    );
    try {
      await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] });
      throw new Error('demo: a model outside the allowlist was let through');
    } catch (err) {
      if (!(err instanceof OpenAI.APIError)) throw err;
      say(`refused  → model gpt-4.1: HTTP ${err.status} ${JSON.stringify(err.error)}`);
    }
    const tunnel = await connectThrough(ports.forwardProxy, 'exfil.example.net:443');
    say(
      `refused  → CONNECT exfil.example.net:443 (HTTPS_PROXY): HTTP ${tunnel.status} ${tunnel.body.trim()}`,
    );
    if (tunnel.status !== 403) throw new Error('demo: a host outside the allowlist was let through');
    const prompt = 'Refund order 1234 for jane.doe@example.com, card 4111 1111 1111 1111.';
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: prompt }],
    });
    const received = (JSON.parse(mock.requests.at(-1)?.body ?? '{}') as { messages?: { content: string }[] })
      .messages?.[0]?.content;
    say(`redacted → the app sent:      ${prompt}`);
    say(`           the provider got:  ${received ?? '(nothing)'}`);
    if (!received?.includes('[EMAIL_1]') || received.includes('4111')) {
      throw new Error('demo: sensitive data left the pod unredacted');
    }

    await step('Throw the kill switch with kubectl');
    await tool('kubectl', [
      'patch',
      'aipp',
      'checkout-openai',
      '-n',
      NS,
      '--type',
      'merge',
      '-p',
      '{"spec":{"killSwitch":true}}',
    ]);
    const thrown = Date.now();
    const refusal = await waitUntil('the kill switch to reach the sidecar', async () => {
      try {
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        });
        return undefined;
      } catch (err) {
        return err instanceof OpenAI.APIError && err.status === 503 ? err : undefined;
      }
    });
    say(
      `refused  → HTTP ${refusal.status} ${JSON.stringify(refusal.error)}  (${Date.now() - thrown} ms after the API write)`,
    );
    await waitUntil('Enforced 1/1', async () =>
      (await tool(
        'kubectl',
        [
          'get',
          'aipp',
          'checkout-openai',
          '-n',
          NS,
          '-o',
          'jsonpath={.status.enforcement.summary}/{.spec.killSwitch}',
        ],
        false,
      )) === '1/1/true'
        ? true
        : undefined,
    );
    await tool('kubectl', ['get', 'aipp', '-n', NS]);
    const events = await tool(
      'kubectl',
      [
        'get',
        'events',
        '-n',
        NS,
        '--field-selector',
        'involvedObject.kind=AIProviderPolicy',
        '-o',
        'custom-columns=TYPE:.type,REASON:.reason,MESSAGE:.message',
      ],
      false,
    );
    say(events);

    await step('Clean up');
    await sidecar.stop();
    await controller.stop();
    await tool('helm', ['uninstall', 'chaperone', '-n', SYSTEM_NS], false);
    say('sidecar and controller stopped, chart uninstalled');
  } finally {
    await sidecar?.stop();
    await controller?.stop();
    await mock?.close();
    await clusterDown(stateDir);
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\n${bold('demo complete:')} cluster stopped, nothing left running`);
}

await main();
