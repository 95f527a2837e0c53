import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { GatewayProvider } from './routes.js';

// Headers about one connection, not the message (RFC 9110 §7.6.1), and those Node sets itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

// Every header a client could authenticate with: the agent's credential stops at the gateway.
const CLIENT_AUTH = new Set(['authorization', 'x-api-key', 'api-key', 'proxy-authorization', 'cookie']);

/** The agent's credential from `Authorization: Bearer …` or `x-api-key` (how the CLIs send it). */
export function credentialsOffered(headers: IncomingHttpHeaders): string[] {
  const offered: string[] = [];
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (bearer?.[1]) offered.push(bearer[1]);
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') offered.push(apiKey.trim());
  return offered;
}

/**
 * The headers to send upstream: the client's, without hop-by-hop or authentication headers, with
 * the real key put on the way the provider expects it, and plain encoding asked for (the meter
 * reads the answer as it passes).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  provider: GatewayProvider,
  apiKey: string | undefined,
  bodyLength: number | null,
): OutgoingHttpHeaders {
  const named = connectionTokens(incoming.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || HOP_BY_HOP.has(name) || CLIENT_AUTH.has(name) || named.has(name)) continue;
    headers[name] = value;
  }
  headers['accept-encoding'] = 'identity';
  if (bodyLength !== null) headers['content-length'] = String(bodyLength);
  if (apiKey) {
    if (provider === 'anthropic') headers['x-api-key'] = apiKey;
    else headers.authorization = `Bearer ${apiKey}`;
  }
  return headers;
}

/** The upstream answer's headers for the client: hop-by-hop ones dropped, every value redacted. */
export function clientResponseHeaders(
  incoming: IncomingHttpHeaders,
  redact: (text: string) => string,
  keepLength: boolean,
): OutgoingHttpHeaders {
  const named = connectionTokens(incoming.connection);
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || named.has(name)) continue;
    if (HOP_BY_HOP.has(name) && !(keepLength && name === 'content-length')) continue;
    headers[name] = Array.isArray(value) ? value.map(redact) : redact(value);
  }
  return headers;
}

function connectionTokens(connection: string | undefined): Set<string> {
  return new Set((connection ?? '').split(',').map((token) => token.trim().toLowerCase()));
}
