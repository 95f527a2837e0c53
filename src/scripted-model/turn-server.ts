import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { RecordedCall, ScriptedTurn, TrafficEntry, TurnScript } from './turns.js';

/** One wire format: which requests are model calls, how a turn and an error are written. */
export interface WireFormat<Body> {
  isModelCall(method: string, path: string): boolean;
  writeTurn(res: ServerResponse, call: RecordedCall<Body>, turn: ScriptedTurn): void;
  writeError(res: ServerResponse, error: NonNullable<ScriptedTurn['error']>): void;
  /** Answers a request that is not a model call; false leaves it to a 404. */
  answerOther(res: ServerResponse, method: string, path: string, body: string): boolean;
}

/** A running scripted server of one wire format. */
export interface TurnServer<Body> {
  /** `http://127.0.0.1:<port>`, without a path. */
  origin: string;
  /** Every model call received, in order. */
  requests: Array<RecordedCall<Body>>;
  /** Every HTTP request received (model calls, token counts, unknown routes), in order. */
  traffic: TrafficEntry[];
  /** Scripted turns not yet used (array scripts only). */
  remaining(): number;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 that answers model calls from `script` in `wire`'s format. */
export async function startTurnServer<Body>(
  wire: WireFormat<Body>,
  script: TurnScript<Body>,
): Promise<TurnServer<Body>> {
  const requests: Array<RecordedCall<Body>> = [];
  const traffic: TrafficEntry[] = [];
  const queue = Array.isArray(script) ? [...script] : null;

  const nextTurn = async (call: RecordedCall<Body>): Promise<ScriptedTurn> => {
    if (!queue) return (script as Exclude<TurnScript<Body>, ScriptedTurn[]>)(call);
    return (
      queue.shift() ?? {
        error: { status: 400, message: `scripted server: script exhausted at call ${call.index + 1}` },
      }
    );
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    traffic.push({ method, url, headers: req.headers });
    const [path = '/', query = ''] = url.split('?');
    const text = await readBody(req);
    if (!wire.isModelCall(method, path)) {
      if (wire.answerOther(res, method, path, text)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${method} ${path}` } }),
      );
      return;
    }
    const call: RecordedCall<Body> = {
      index: requests.length,
      method,
      path,
      query,
      headers: req.headers,
      body: JSON.parse(text) as Body,
    };
    requests.push(call);
    const turn = await nextTurn(call);
    if (turn.delayMs) await new Promise((resolve) => setTimeout(resolve, turn.delayMs));
    if (turn.hang) return;
    if (turn.error) return wire.writeError(res, turn.error);
    wire.writeTurn(res, call, turn);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted server failed: ${String(error)}` } }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    traffic,
    remaining: () => queue?.length ?? 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One server-sent event: `event:` line (when named) and JSON data. */
export interface SseEvent {
  event?: string;
  data: unknown;
}

/** Writes SSE events; with `stallAfter`, only that many, and then the stream goes silent but open. */
export function writeSse(res: ServerResponse, events: SseEvent[], stallAfter?: number, closing?: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const limit = stallAfter ?? events.length;
  for (const { event, data } of events.slice(0, limit)) {
    res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }
  if (limit < events.length) return;
  res.end(closing);
}

/** Writes a JSON body. */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  const decoder =
    encoding === 'gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : null;
  const source = decoder ? req.pipe(decoder) : req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    source.on('data', (chunk: Buffer) => chunks.push(chunk));
    source.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    source.on('error', reject);
    req.on('error', reject);
  });
}
