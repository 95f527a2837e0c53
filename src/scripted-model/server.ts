import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatCompletionBody, RecordedRequest, Script, ScriptedReply } from './types.js';

export interface ScriptedServerOptions {
  script: Script;
  /** Model ids for GET /models; null answers 404 like endpoints without a model list. */
  models?: string[] | null;
}

/** A running fake endpoint. */
export interface ScriptedServer {
  /** Base URL to hand to the openai client, ending in `/v1`. */
  baseUrl: string;
  /** Every chat-completions request received, in order. */
  requests: RecordedRequest[];
  /** Scripted answers not yet used (array scripts only). */
  remaining(): number;
  /** Resolves once every `endless` answer has ended (its client hung up). */
  endlessEnded(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an OpenAI-compatible chat-completions server on 127.0.0.1 that answers from a script,
 * in the real wire format (streamed SSE chunks or one JSON body, `tool_calls`, usage).
 */
export async function startScriptedServer(options: ScriptedServerOptions): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const queue = Array.isArray(options.script) ? [...options.script] : null;
  const models = options.models === undefined ? ['scripted-model'] : options.models;
  const endless = new Set<Promise<void>>();

  const nextReply = async (request: RecordedRequest): Promise<ScriptedReply> => {
    if (queue) {
      const reply = queue.shift();
      return (
        reply ?? {
          error: { status: 400, message: `scripted server: script exhausted at request ${request.index + 1}` },
        }
      );
    }
    return (options.script as Exclude<Script, ScriptedReply[]>)(request);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted server failed: ${String(error)}` } }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path.endsWith('/models')) {
      if (models === null) return sendError(res, { status: 404, message: 'no model list here' });
      return sendJson(res, 200, {
        object: 'list',
        data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' })),
      });
    }
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      return sendError(res, { status: 404, message: `no route ${req.method} ${path}` });
    }
    const body = JSON.parse(await readBody(req)) as ChatCompletionBody;
    const recorded: RecordedRequest = { index: requests.length, body, headers: req.headers };
    requests.push(recorded);
    const reply = await nextReply(recorded);
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.hang) return;
    if (reply.error) return sendError(res, reply.error);
    if (reply.endless) {
      const ended = sendEndless(res, body, reply.endless, recorded);
      endless.add(ended);
      return ended;
    }
    if (reply.rawBody !== undefined) {
      res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
      res.end(body.stream ? `data: ${reply.rawBody}\n\ndata: [DONE]\n\n` : reply.rawBody);
      return;
    }
    const usage = reply.usage ?? estimateUsage(body, reply);
    if (body.stream) return streamReply(res, body, reply, usage);
    return sendJson(res, 200, completionBody(body.model, reply, usage));
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    remaining: () => queue?.length ?? 0,
    endlessEnded: async () => {
      await Promise.all(endless);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: NonNullable<ScriptedReply['error']>): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // The openai client honours retry-after-ms, which keeps retry tests fast.
  if (error.retryAfterMs !== undefined) headers['retry-after-ms'] = String(error.retryAfterMs);
  res.writeHead(error.status, headers);
  res.end(JSON.stringify({ error: { message: error.message, type: 'scripted_error', code: null } }));
}

function argumentsText(args: string | Record<string, unknown>): string {
  return typeof args === 'string' ? args : JSON.stringify(args);
}

function toolCallsOf(reply: ScriptedReply) {
  return (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}_${Math.random().toString(36).slice(2, 10)}`,
    name: call.name,
    arguments: argumentsText(call.arguments),
  }));
}

function completionBody(
  model: string,
  reply: ScriptedReply,
  usage: { promptTokens: number; completionTokens: number },
) {
  const calls = toolCallsOf(reply);
  return {
    id: `chatcmpl-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
        logprobs: null,
        message: {
          role: 'assistant',
          content: reply.content ?? null,
          refusal: null,
          ...(calls.length > 0
            ? {
                tool_calls: calls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
      },
    ],
    usage: {
      prompt_tokens: usage.promptTokens,
      completion_tokens: usage.completionTokens,
      total_tokens: usage.promptTokens + usage.completionTokens,
    },
  };
}

function streamReply(
  res: ServerResponse,
  body: ChatCompletionBody,
  reply: ScriptedReply,
  usage: { promptTokens: number; completionTokens: number },
): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const base = {
    id: `chatcmpl-${Date.now()}`,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: body.model,
  };
  const chunks: unknown[] = [
    { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
  ];
  if (reply.content) {
    for (const piece of splitText(reply.content, 16)) {
      chunks.push({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
  }
  const calls = toolCallsOf(reply);
  calls.forEach((call, index) => {
    chunks.push({
      ...base,
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
          },
          finish_reason: null,
        },
      ],
    });
    for (const piece of splitText(call.arguments, reply.argumentChunkSize ?? Math.max(call.arguments.length, 1))) {
      chunks.push({
        ...base,
        choices: [
          { index: 0, delta: { tool_calls: [{ index, function: { arguments: piece } }] }, finish_reason: null },
        ],
      });
    }
  });
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: calls.length > 0 ? 'tool_calls' : 'stop' }] });
  if (body.stream_options?.include_usage) {
    chunks.push({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
      },
    });
  }
  const limit = reply.stallAfterChunks ?? chunks.length;
  for (const chunk of chunks.slice(0, limit)) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  if (limit < chunks.length) return;
  res.end('data: [DONE]\n\n');
}

/**
 * Writes an answer that never ends, as fast as `everyMs` and the client's reading allow, counting
 * what it wrote; resolves when the connection closes.
 */
async function sendEndless(
  res: ServerResponse,
  body: ChatCompletionBody,
  endless: NonNullable<ScriptedReply['endless']>,
  recorded: RecordedRequest,
): Promise<void> {
  const sent = { bytes: 0, closedByClient: false };
  recorded.sent = sent;
  let closed = false;
  const whenClosed = new Promise<void>((resolve) =>
    res.once('close', () => {
      closed = true;
      sent.closedByClient = !res.writableEnded;
      resolve();
    }),
  );
  const piece = 'x'.repeat(endless.pieceChars);
  const chunk = { id: `chatcmpl-${Date.now()}`, object: 'chat.completion.chunk', created: 0, model: body.model };
  const frame = body.stream
    ? `data: ${JSON.stringify({ ...chunk, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`
    : piece;
  res.writeHead(200, { 'content-type': body.stream ? 'text/event-stream' : 'application/json' });
  const opening = body.stream
    ? ''
    : `{"id":"chatcmpl-endless","object":"chat.completion","created":0,"model":${JSON.stringify(body.model)},"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"`;
  const write = (text: string) => {
    sent.bytes += Buffer.byteLength(text);
    return res.write(text);
  };
  if (opening) write(opening);
  while (!closed) {
    if (!write(frame)) await Promise.race([once(res, 'drain'), whenClosed]);
    else if (endless.everyMs > 0) await new Promise((resolve) => setTimeout(resolve, endless.everyMs));
    else await new Promise((resolve) => setImmediate(resolve));
  }
  await whenClosed;
}

function splitText(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += size) pieces.push(text.slice(at, at + size));
  return pieces.length > 0 ? pieces : [''];
}

/** Rough token counts (4 characters a token) so budgets and trimming see realistic growth. */
function estimateUsage(
  body: ChatCompletionBody,
  reply: ScriptedReply,
): { promptTokens: number; completionTokens: number } {
  const promptChars = JSON.stringify(body.messages).length + JSON.stringify(body.tools ?? []).length;
  const completionChars = (reply.content ?? '').length + JSON.stringify(reply.toolCalls ?? []).length;
  return { promptTokens: Math.ceil(promptChars / 4), completionTokens: Math.ceil(completionChars / 4) };
}
