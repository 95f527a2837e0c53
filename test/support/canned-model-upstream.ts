// A minimal model endpoint for the gateway's tests: it answers the OpenAI responses API and the
// Anthropic messages API with canned JSON or SSE carrying given usage, and records what reached it.
// (The full scripted servers for these APIs live elsewhere; this one only has to carry bytes.)
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the upstream received it. */
export interface CannedRequest {
  method: string;
  /** Path and query, as sent upstream. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | null;
}

/** What the upstream answers. */
export type CannedAnswer =
  | { status?: number; headers?: Record<string, string>; json: unknown }
  /** Server-sent events; with `hang`, the stream stays open after them. */
  | { events: Array<{ event?: string; data: unknown }>; hang?: boolean }
  /** No answer at all: the request waits until the caller gives up. */
  | { silent: true };

export interface CannedUpstream {
  /** http://127.0.0.1:<port>, no path. */
  origin: string;
  requests: CannedRequest[];
  /** Resolves when the connection of a request left open (`hang`, `silent`) closes. */
  hungUpOn: Promise<void>;
  close(): Promise<void>;
}

/** Starts the upstream on 127.0.0.1; `answer` decides each reply. */
export async function startCannedUpstream(answer: (request: CannedRequest) => CannedAnswer): Promise<CannedUpstream> {
  const requests: CannedRequest[] = [];
  let hungUp!: () => void;
  const hungUpOn = new Promise<void>((resolve) => (hungUp = resolve));
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const request: CannedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    };
    requests.push(request);
    reply(res, answer(request), hungUp);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hungUpOn,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, answer: CannedAnswer, hungUp: () => void): void {
  if ('silent' in answer) return void res.on('close', hungUp);
  if ('json' in answer) {
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.json));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const { event, data } of answer.events) {
    res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }
  if (!answer.hang) return void res.end();
  res.on('close', hungUp);
}

/** Token counts in the API's own words, for the canned answers. */
export interface CannedUsage {
  input: number;
  output: number;
  cached?: number;
  cacheWrite?: number;
}

/** An OpenAI responses-API answer saying `text`, whole or as its stream of events. */
export function responsesAnswer(model: string, text: string, usage: CannedUsage, stream: boolean): CannedAnswer {
  const response = {
    id: 'resp_canned',
    object: 'response',
    status: 'completed',
    model,
    output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }],
    usage: {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cached ?? 0 },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input + usage.output,
    },
  };
  if (!stream) return { json: response };
  const started = { ...response, status: 'in_progress', output: [], usage: null };
  return {
    events: [
      { event: 'response.created', data: { type: 'response.created', response: started } },
      ...[...text].map((delta) => ({
        event: 'response.output_text.delta',
        data: { type: 'response.output_text.delta', delta },
      })),
      { event: 'response.completed', data: { type: 'response.completed', response } },
    ],
  };
}

/** An Anthropic messages-API answer saying `text`, whole or as its stream of events. */
export function messagesAnswer(model: string, text: string, usage: CannedUsage, stream: boolean): CannedAnswer {
  const counts = {
    input_tokens: usage.input,
    cache_creation_input_tokens: usage.cacheWrite ?? 0,
    cache_read_input_tokens: usage.cached ?? 0,
  };
  const message = { id: 'msg_canned', type: 'message', role: 'assistant', model, stop_reason: 'end_turn' };
  if (!stream) {
    return {
      json: { ...message, content: [{ type: 'text', text }], usage: { ...counts, output_tokens: usage.output } },
    };
  }
  return {
    events: [
      {
        event: 'message_start',
        data: { type: 'message_start', message: { ...message, content: [], usage: { ...counts, output_tokens: 1 } } },
      },
      {
        event: 'content_block_start',
        data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      },
      ...[...text].map((char) => ({
        event: 'content_block_delta',
        data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: char } },
      })),
      { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
      {
        event: 'message_delta',
        data: { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: usage.output } },
      },
      { event: 'message_stop', data: { type: 'message_stop' } },
    ],
  };
}
