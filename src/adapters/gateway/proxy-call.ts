import {
  request as httpRequest,
  type Agent,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AnswerMeter, MeterReading } from './answer-meter.js';
import { apiError, type ErrorAnswer, type GatewayErrorKind } from './api-errors.js';
import type { GatewayProvider } from './routes.js';
import { clientResponseHeaders } from './upstream-headers.js';

/** Limits on one upstream call. */
export interface ProxyBounds {
  /** The whole call, first byte sent to last byte received. */
  timeoutMs: number;
  /** Silence allowed once the answer has started. */
  idleTimeoutMs: number;
  /** Bytes of answer passed on before the call is cut. */
  answerLimitBytes: number;
}

/** One call to forward. */
export interface ProxyRequest {
  provider: GatewayProvider;
  target: URL;
  method: string;
  headers: OutgoingHttpHeaders;
  body: Buffer | null;
  /** The keep-alive agent for the target's scheme. */
  agent: Agent;
  response: ServerResponse;
  /** Aborts when the agent's client goes away. */
  clientGone: AbortSignal;
  /** A meter for a successful answer of this content type, or null to pass it unread. */
  meterFor: (contentType: string | undefined) => AnswerMeter | null;
  redact: (text: string) => string;
  bounds: ProxyBounds;
}

/** How the forwarded call ended. */
export interface ProxyResult {
  status: number;
  outcome: 'answered' | 'failed' | 'aborted';
  reading: MeterReading | null;
  error?: string;
}

/** HTTP status recorded for a call whose client went away first (no answer was sent). */
export const CLIENT_CLOSED = 499;

/**
 * Forwards one call and streams the answer back byte for byte as it arrives, metering it on the
 * way. An upstream error answer is read whole (capped) and redacted before the client sees it: it
 * may echo the key. A connection reused from the keep-alive pool that the upstream had already
 * closed is retried once, on a fresh one.
 */
export function proxyCall(call: ProxyRequest): Promise<ProxyResult> {
  // Gone while its body was read or its budget checked: nothing to forward.
  if (call.clientGone.aborted) return Promise.resolve({ status: CLIENT_CLOSED, outcome: 'aborted', reading: null });
  return new Promise((resolve) => new ProxiedCall(call, resolve).start(false));
}

class ProxiedCall {
  private settled = false;
  private meter: AnswerMeter | null = null;
  private upstream: ReturnType<typeof httpRequest> | null = null;
  private readonly total: NodeJS.Timeout;
  private idle: NodeJS.Timeout | null = null;
  private readonly onClientGone = () => {
    this.upstream?.destroy();
    this.settle({ status: CLIENT_CLOSED, outcome: 'aborted', reading: this.meter?.end() ?? null });
  };

  constructor(
    private readonly call: ProxyRequest,
    private readonly resolve: (result: ProxyResult) => void,
  ) {
    this.total = setTimeout(
      () => this.fail('upstream-timeout', `the model endpoint did not finish within ${call.bounds.timeoutMs} ms`),
      call.bounds.timeoutMs,
    );
    call.clientGone.addEventListener('abort', this.onClientGone, { once: true });
  }

  start(isRetry: boolean): void {
    if (this.settled) return;
    const { call } = this;
    const send = call.target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(call.target, { method: call.method, headers: call.headers, agent: call.agent });
    this.upstream = upstream;
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (this.settled) return;
      // A pooled connection the upstream closed while idle: nothing reached it, so sending again is safe.
      if (!isRetry && upstream.reusedSocket && error.code === 'ECONNRESET' && !this.meter) return this.start(true);
      this.fail('upstream-unreachable', `could not reach the model endpoint: ${error.message}`);
    });
    upstream.on('response', (answer) => this.answer(answer));
    upstream.end(call.body ?? undefined);
  }

  private answer(answer: IncomingMessage): void {
    if (this.settled) return void answer.resume();
    const status = answer.statusCode ?? 502;
    if (status >= 400) return this.relayError(answer, status);
    const { response, bounds } = this.call;
    const contentType = answer.headers['content-type'];
    response.writeHead(status, clientResponseHeaders(answer.headers, this.call.redact, true));
    // A stream's headers go at once (its first event may be a while); a body's go with it.
    if (contentType?.includes('text/event-stream')) response.flushHeaders();
    this.meter = this.call.meterFor(contentType);
    this.idle = setTimeout(
      () => this.fail('upstream-timeout', `the model endpoint was silent for ${bounds.idleTimeoutMs} ms`),
      bounds.idleTimeoutMs,
    );
    let bytes = 0;
    answer.on('data', (chunk: Buffer) => {
      if (this.settled) return;
      bytes += chunk.length;
      if (bytes > bounds.answerLimitBytes) {
        return this.fail('answer-too-large', `the answer passed ${bounds.answerLimitBytes} bytes`);
      }
      this.idle?.refresh();
      // Bytes leave first; the meter reads them after.
      if (!response.write(chunk)) {
        answer.pause();
        response.once('drain', () => answer.resume());
      }
      this.meter?.write(chunk);
    });
    answer.on('end', () => {
      if (this.settled) return;
      response.end();
      this.settle({ status, outcome: 'answered', reading: this.meter?.end() ?? null });
    });
    answer.on('error', (error) => this.fail('upstream-unreachable', `the answer broke off: ${error.message}`));
    answer.on('close', () => {
      if (!answer.complete) this.fail('upstream-unreachable', 'the answer broke off');
    });
  }

  private relayError(answer: IncomingMessage, status: number): void {
    const chunks: Buffer[] = [];
    let bytes = 0;
    answer.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= this.call.bounds.answerLimitBytes) chunks.push(chunk);
    });
    answer.on('end', () => {
      if (this.settled) return;
      const text = this.call.redact(Buffer.concat(chunks).toString('utf8'));
      this.call.response.writeHead(status, clientResponseHeaders(answer.headers, this.call.redact, false));
      this.call.response.end(text);
      this.settle({ status, outcome: 'answered', reading: null, error: firstLine(text) });
    });
    answer.on('error', (error) => this.fail('upstream-unreachable', `the answer broke off: ${error.message}`));
  }

  private fail(kind: GatewayErrorKind, message: string): void {
    if (this.settled) return;
    this.upstream?.destroy();
    const { response, provider, redact } = this.call;
    const error = redact(message);
    let status = response.statusCode;
    if (response.headersSent) response.destroy();
    else status = send(response, apiError(provider, kind, `Fanout gateway: ${error}`));
    this.settle({ status, outcome: 'failed', reading: this.meter?.end() ?? null, error });
  }

  private settle(result: ProxyResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.total);
    if (this.idle) clearTimeout(this.idle);
    this.call.clientGone.removeEventListener('abort', this.onClientGone);
    this.resolve(result);
  }
}

/** Sends an error answer; returns its status. */
export function send(response: ServerResponse, answer: ErrorAnswer): number {
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
  return answer.status;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.slice(0, 500);
}
