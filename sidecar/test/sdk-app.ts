// An app as a user would write it: the official SDK, configured only by its environment
// (OPENAI_BASE_URL / ANTHROPIC_BASE_URL, the API key variables, HTTPS_PROXY with
// NODE_USE_ENV_PROXY=1, NODE_EXTRA_CA_CERTS). Runs one scenario and prints the outcome as JSON.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

type Outcome = Record<string, unknown>;

function failure(err: unknown): Outcome {
  const e = err as {
    status?: number;
    error?: unknown;
    message?: string;
    constructor: { name: string };
    cause?: unknown;
  };
  const cause = e.cause as { message?: string; cause?: { message?: string } } | undefined;
  return {
    ok: false,
    errorClass: e.constructor.name,
    status: e.status ?? null,
    body: e.error ?? null,
    message: e.message ?? String(err),
    cause: cause?.cause?.message ?? cause?.message ?? null,
  };
}

const messages = [{ role: 'user' as const, content: 'Say hello to the sidecar.' }];

const scenarios: Record<string, () => Promise<Outcome>> = {
  async 'openai-chat'() {
    const completion = await new OpenAI().chat.completions.create({ model: 'gpt-4o-mini', messages });
    return { ok: true, content: completion.choices[0]?.message.content, usage: completion.usage };
  },
  async 'openai-stream'() {
    const stream = await new OpenAI().chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let chunks = 0;
    let usage: unknown = null;
    for await (const chunk of stream) {
      chunks++;
      content += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    return { ok: true, content, chunks, usage };
  },
  async 'openai-refused'() {
    try {
      await new OpenAI({ maxRetries: 0 }).chat.completions.create({ model: 'gpt-5', messages });
      return { ok: true };
    } catch (err) {
      return failure(err);
    }
  },
  async 'openai-broken-stream'() {
    try {
      const stream = await new OpenAI({ maxRetries: 0 }).chat.completions.create({
        model: 'mock-fail-midstream',
        messages,
        stream: true,
      });
      let content = '';
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
      return { ok: true, content };
    } catch (err) {
      return failure(err);
    }
  },
  async 'anthropic-message'() {
    const message = await new Anthropic().messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages,
    });
    const block = message.content[0];
    return { ok: true, content: block?.type === 'text' ? block.text : null, usage: message.usage };
  },
  async 'anthropic-stream'() {
    const stream = new Anthropic().messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages });
    let deltas = 0;
    stream.on('text', () => deltas++);
    const message = await stream.finalMessage();
    const block = message.content[0];
    return { ok: true, content: block?.type === 'text' ? block.text : null, deltas, usage: message.usage };
  },
  async 'anthropic-refused'() {
    try {
      await new Anthropic({ maxRetries: 0 }).messages.create({
        model: 'claude-opus-4-1',
        max_tokens: 64,
        messages,
      });
      return { ok: true };
    } catch (err) {
      return failure(err);
    }
  },
};

const scenario = scenarios[process.argv[2] ?? ''];
if (!scenario) {
  process.stderr.write(`unknown scenario ${process.argv[2]}; one of: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
scenario().then(
  (outcome) => process.stdout.write(`${JSON.stringify(outcome)}\n`),
  (err: unknown) => process.stdout.write(`${JSON.stringify(failure(err))}\n`),
);
