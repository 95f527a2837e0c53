import type { Agent, IncomingMessage, ServerResponse } from 'node:http';
import type { SecretRedactor } from '../../domain/redactor.js';
import type { Ledger } from '../../ports/ledger.js';
import { answerMeter } from './answer-meter.js';
import { apiError } from './api-errors.js';
import { budgetRefusal, outputTokensLeft } from './budget.js';
import type { GatewayCallEvent, GatewayCallListener } from './call-event.js';
import type { CredentialRegistry, IssuedCredential } from './credentials.js';
import { totalTokens } from './model-usage.js';
import { costUsd, lookUpPrice, type PriceOverrides } from './pricing.js';
import { proxyCall, send, type ProxyBounds } from './proxy-call.js';
import { readRequest, rewriteRequest } from './request-body.js';
import { GATEWAY_PATHS, routeOf, type GatewayProvider, type Route } from './routes.js';
import { credentialsOffered, upstreamRequestHeaders } from './upstream-headers.js';

/** An upstream as the handler uses it: base URL, real key, keep-alive connection pool. */
export interface ResolvedUpstream {
  baseUrl: string;
  apiKey?: string;
  agent: Agent;
}

/** What the request handler works with; the gateway builds it once. */
export interface HandlerContext {
  upstreams: Record<GatewayProvider, ResolvedUpstream>;
  credentials: CredentialRegistry;
  ledger: Ledger;
  prices: PriceOverrides;
  bounds: ProxyBounds & { requestLimitBytes: number };
  redactor: SecretRedactor;
  onCall?: GatewayCallListener;
}

type ForwardRoute = Extract<Route, { kind: 'forward' }>;

/**
 * Handles one request to the gateway: routes it, checks the credential, refuses a call past a
 * budget, forwards it with the real key, meters the answer, charges the ledger, and reports the
 * call. Never throws: a failure becomes an error answer in the API's format.
 */
export async function handleGatewayRequest(
  request: IncomingMessage,
  response: ServerResponse,
  context: HandlerContext,
): Promise<void> {
  const started = performance.now();
  const method = request.method ?? 'GET';
  const route = routeOf(method, request.url ?? '/');
  if (route.kind === 'unknown') {
    request.resume();
    const message = `Fanout gateway: no route ${method} ${pathOnly(request.url)}; the APIs are under ${GATEWAY_PATHS.openai} and ${GATEWAY_PATHS.anthropic}`;
    return void send(response, apiError('openai', 'not-forwarded', message));
  }
  if (route.kind === 'local') return answerLocally(request, response, route.answer);
  const credential = context.credentials.find(credentialsOffered(request.headers));
  if (!credential) {
    request.resume();
    return void send(
      response,
      apiError(
        route.kind === 'tool-use' ? 'anthropic' : route.provider,
        'unauthorized',
        'Fanout gateway: unknown or revoked credential',
      ),
    );
  }
  const report = (event: Omit<GatewayCallEvent, 'agent' | 'durationMs'>) =>
    emit(context, credential, { ...event, agent: credential.agent, durationMs: performance.now() - started });
  if (route.kind === 'tool-use') return answerToolUse(request, response, credential);
  if (route.kind === 'refused') {
    request.resume();
    const message = `Fanout gateway: ${route.what} is not forwarded (only model calls are)`;
    const status = send(response, apiError(route.provider, 'not-forwarded', message));
    return report(refused(route.what.slice(route.what.indexOf(' ') + 1), status, message));
  }
  try {
    await forward(request, response, context, credential, route, report);
  } catch (error) {
    // The body could not be read or the ledger failed (a store, later): no call is made, and the answer says why.
    const message = context.redactor.text(`Fanout gateway: ${error instanceof Error ? error.message : String(error)}`);
    if (!response.headersSent) send(response, apiError(route.provider, 'internal', message));
    else response.destroy();
    report({ ...refused(route.path, response.statusCode, message), api: route.api, outcome: 'failed' });
  }
}

async function forward(
  request: IncomingMessage,
  response: ServerResponse,
  context: HandlerContext,
  credential: IssuedCredential,
  route: ForwardRoute,
  report: (event: Omit<GatewayCallEvent, 'agent' | 'durationMs'>) => void,
): Promise<void> {
  const clientGone = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) clientGone.abort();
  });
  const body = await readBody(request, context.bounds.requestLimitBytes);
  if (body === null) {
    const message = `Fanout gateway: the request body passed ${context.bounds.requestLimitBytes} bytes`;
    response.setHeader('connection', 'close');
    const status = send(response, apiError(route.provider, 'too-large', message));
    return report({ ...refused(route.path, status, message), api: route.api });
  }
  const api = route.api;
  const facts = api === 'other' ? null : readRequest(body);
  const prices = { ...context.prices, ...credential.prices };
  let outgoing = body;
  if (api !== 'other' && facts) {
    const spent = await context.ledger.spent(credential.agent);
    const refusal = budgetRefusal(spent, credential.budget);
    if (refusal) {
      const status = send(response, apiError(route.provider, 'budget', refusal.message));
      return report({ ...refused(route.path, status, refusal.message), api, model: facts.model, refusal });
    }
    const outputPrice = lookUpPrice([facts.model], prices).price?.output ?? null;
    const left = route.clampOutput ? outputTokensLeft(spent, credential.budget, outputPrice) : null;
    outgoing = rewriteRequest(api, facts, left) ?? body;
  }
  const upstream = context.upstreams[route.provider];
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
  const result = await proxyCall({
    provider: route.provider,
    target: new URL(upstream.baseUrl.replace(/\/+$/, '') + route.path),
    method: request.method ?? 'GET',
    headers: upstreamRequestHeaders(request.headers, route.provider, upstream.apiKey, hasBody ? outgoing.length : null),
    body: hasBody ? outgoing : null,
    agent: upstream.agent,
    response,
    clientGone: clientGone.signal,
    meterFor: (contentType) => (api === 'other' ? null : answerMeter(api, contentType)),
    redact: (text) => context.redactor.text(text),
    bounds: context.bounds,
  });
  const usage = result.reading?.usage ?? null;
  const price = lookUpPrice([result.reading?.model ?? null, facts?.model ?? null], prices);
  const cost = usage && price.price ? costUsd(usage, price.price) : null;
  if (usage) await context.ledger.charge(credential.agent, { tokens: totalTokens(usage), usd: cost });
  report({
    api,
    path: pathOnly(route.path),
    model: result.reading?.model ?? facts?.model ?? null,
    usage,
    costUsd: cost,
    price: price.source,
    status: result.status,
    outcome: result.outcome,
    ...(result.error ? { error: result.error } : {}),
  });
}

function refused(path: string, status: number, error: string): Omit<GatewayCallEvent, 'agent' | 'durationMs'> {
  return {
    api: 'other',
    path: pathOnly(path),
    model: null,
    usage: null,
    costUsd: null,
    price: 'unknown',
    status,
    outcome: 'refused',
    error,
  };
}

function emit(context: HandlerContext, credential: IssuedCredential, event: GatewayCallEvent): void {
  for (const listener of [credential.onCall, context.onCall]) {
    try {
      listener?.(event);
    } catch {
      // The call is over either way; a listener's failure must not fail the gateway.
    }
  }
}

// Claude Code probes its base URL before it starts, and sends telemetry there: both are answered
// here, and the telemetry goes nowhere.
function answerLocally(request: IncomingMessage, response: ServerResponse, answer: 'hello' | 'telemetry'): void {
  request.resume();
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(request.method === 'HEAD' ? undefined : answer === 'hello' ? '{"status":"ok"}' : '{}');
}

// A hook's question is small: the tool's name and input (a whole file's content at most).
const TOOL_USE_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * An agent CLI's PreToolUse hook (Claude Code posts it, Codex's hook command relays it): the
 * credential's owner decides, and the answer is the hook output both CLIs read (`{}` lets the call
 * run; a deny carries Fanout's reason to the model). Hooks fail open, so this answers whatever
 * happens: a question it cannot read is let through, the commit's scope check stays the guarantee.
 */
async function answerToolUse(
  request: IncomingMessage,
  response: ServerResponse,
  credential: IssuedCredential,
): Promise<void> {
  let reason: string | null = null;
  try {
    const body = await readBody(request, TOOL_USE_LIMIT_BYTES);
    const question = body ? (JSON.parse(body.toString('utf8')) as { tool_name?: unknown; tool_input?: unknown }) : {};
    const input = question.tool_input;
    if (typeof question.tool_name === 'string' && input && typeof input === 'object' && credential.onToolUse)
      reason = await credential.onToolUse({ tool: question.tool_name, input: input as Record<string, unknown> });
  } catch {
    reason = null;
  }
  const answer = reason
    ? {
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          permissionDecision: 'deny',
          permissionDecisionReason: reason,
        },
      }
    : {};
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(answer));
}

/** The request body, or null past the limit (the rest is not read). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) {
        request.removeAllListeners('data');
        request.pause();
        return resolve(null);
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function pathOnly(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0]!;
}
