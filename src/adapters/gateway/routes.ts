import type { MeteredApi } from './model-usage.js';

/** Which upstream a request goes to. */
export type GatewayProvider = 'openai' | 'anthropic';

/** Which API a call used; `other` is forwarded but no model call (a model list, a token count). */
export type GatewayApi = MeteredApi | 'other';

/** Where each API sits on the gateway: agents get `<origin><path>` as their base URL. */
export const GATEWAY_PATHS: Readonly<Record<GatewayProvider, string>> = {
  // The OpenAI base URL ends in /v1 (as OPENAI_BASE_URL does); the Anthropic one does not.
  openai: '/openai/v1',
  anthropic: '/anthropic',
};

/** Where an agent CLI's PreToolUse hook asks Fanout whether a tool call may run. */
export const TOOL_USE_HOOK_PATH = '/fanout/v1/tool-use';

/** What the gateway does with a request. */
export type Route =
  /** Forward to the provider's upstream at `path` (under its base URL, query kept). */
  | { kind: 'forward'; provider: GatewayProvider; api: GatewayApi; path: string; clampOutput: boolean }
  /** Answer here: Claude Code's connection probe, and its telemetry (never sent on with the key). */
  | { kind: 'local'; provider: GatewayProvider; answer: 'hello' | 'telemetry' }
  /** A path under a provider the gateway does not forward (files, batches, fine-tuning...). */
  | { kind: 'refused'; provider: GatewayProvider; what: string }
  /** An agent CLI's hook asking about a tool call (answered by the credential's owner). */
  | { kind: 'tool-use' }
  | { kind: 'unknown' };

interface Allowed {
  method: string;
  path: RegExp;
  api: GatewayApi;
  clampOutput?: boolean;
}

// Only what agent CLIs call: anything else under a prefix could spend the real key on work no
// budget meters (batches, fine-tuning, file storage).
const ALLOWED: Record<GatewayProvider, Allowed[]> = {
  openai: [
    { method: 'POST', path: /^\/chat\/completions$/, api: 'openai-chat', clampOutput: true },
    { method: 'POST', path: /^\/responses$/, api: 'openai-responses', clampOutput: true },
    // Codex compacts long sessions here; the answer carries usage like a response.
    { method: 'POST', path: /^\/responses\/compact$/, api: 'openai-responses' },
    { method: 'POST', path: /^\/responses\/input_tokens$/, api: 'other' },
    { method: 'GET', path: /^\/models(\/[\w.:-]+)?$/, api: 'other' },
  ],
  anthropic: [
    { method: 'POST', path: /^\/v1\/messages$/, api: 'anthropic-messages', clampOutput: true },
    { method: 'POST', path: /^\/v1\/messages\/count_tokens$/, api: 'other' },
    { method: 'GET', path: /^\/v1\/models(\/[\w.:-]+)?$/, api: 'other' },
  ],
};

/** Where a request goes, from its method and URL (dot segments resolved first). */
export function routeOf(method: string, url: string): Route {
  const parsed = new URL(url, 'http://gateway');
  if (parsed.pathname === TOOL_USE_HOOK_PATH && method === 'POST') return { kind: 'tool-use' };
  for (const provider of ['openai', 'anthropic'] as const) {
    const prefix = GATEWAY_PATHS[provider];
    if (parsed.pathname !== prefix && !parsed.pathname.startsWith(`${prefix}/`)) continue;
    const rest = parsed.pathname.slice(prefix.length);
    const local = localAnswer(provider, method, rest);
    if (local) return { kind: 'local', provider, answer: local };
    const allowed = ALLOWED[provider].find((entry) => entry.method === method && entry.path.test(rest));
    if (!allowed) return { kind: 'refused', provider, what: `${method} ${rest || '/'}` };
    return {
      kind: 'forward',
      provider,
      api: allowed.api,
      path: rest + parsed.search,
      clampOutput: allowed.clampOutput === true,
    };
  }
  return { kind: 'unknown' };
}

function localAnswer(provider: GatewayProvider, method: string, rest: string): 'hello' | 'telemetry' | null {
  if (provider !== 'anthropic') return null;
  if (rest === '/api/hello' && (method === 'GET' || method === 'HEAD')) return 'hello';
  if (rest.startsWith('/api/event_logging/') && method === 'POST') return 'telemetry';
  return null;
}
