import type { GatewayProvider } from './routes.js';

/** Why the gateway answers a call itself with an error. */
export type GatewayErrorKind =
  | 'unauthorized'
  | 'budget'
  | 'not-forwarded'
  | 'too-large'
  | 'upstream-unreachable'
  | 'upstream-timeout'
  | 'answer-too-large'
  | 'internal';

/** An error answer, ready to send. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Shape {
  status: number;
  openai: { type: string; code: string | null };
  anthropic: string;
  /** The client must not try again: the same call would be refused the same way. */
  final: boolean;
}

// The status and error type each API's own servers use for the same condition, so the agent's
// client reports it the way it reports a real one.
const SHAPES: Record<GatewayErrorKind, Shape> = {
  unauthorized: {
    status: 401,
    openai: { type: 'invalid_request_error', code: 'invalid_api_key' },
    anthropic: 'authentication_error',
    final: true,
  },
  budget: {
    status: 429,
    openai: { type: 'insufficient_quota', code: 'insufficient_quota' },
    anthropic: 'rate_limit_error',
    final: true,
  },
  'not-forwarded': {
    status: 404,
    openai: { type: 'invalid_request_error', code: 'unknown_url' },
    anthropic: 'not_found_error',
    final: true,
  },
  'too-large': {
    status: 413,
    openai: { type: 'invalid_request_error', code: 'request_too_large' },
    anthropic: 'request_too_large',
    final: true,
  },
  'upstream-unreachable': {
    status: 502,
    openai: { type: 'server_error', code: null },
    anthropic: 'api_error',
    final: false,
  },
  'upstream-timeout': {
    status: 504,
    openai: { type: 'server_error', code: 'timeout' },
    anthropic: 'timeout_error',
    final: false,
  },
  'answer-too-large': {
    status: 502,
    openai: { type: 'server_error', code: null },
    anthropic: 'api_error',
    final: false,
  },
  internal: { status: 500, openai: { type: 'server_error', code: null }, anthropic: 'api_error', final: false },
};

/** The error answer in the provider's own JSON format (OpenAI's `{ error }`, Anthropic's `{ type: 'error' }`). */
export function apiError(provider: GatewayProvider, kind: GatewayErrorKind, message: string): ErrorAnswer {
  const shape = SHAPES[kind];
  const body =
    provider === 'anthropic'
      ? { type: 'error', error: { type: shape.anthropic, message } }
      : { error: { message, type: shape.openai.type, param: null, code: shape.openai.code } };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // The OpenAI and Anthropic SDKs honour this header: no retries against a refusal.
  if (shape.final) headers['x-should-retry'] = 'false';
  return { status: shape.status, headers, body: JSON.stringify(body) };
}
