/** What the model endpoint's address becomes in text Fanout publishes. */
export const HIDDEN_ENDPOINT = '[model endpoint]';

// Addresses that tell a reader nothing about the deployment; hiding them would only mangle text
// such as test output naming `127.0.0.1`.
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/**
 * Removes the model endpoint's address (OPENAI_BASE_URL as configured and as messages show it, its
 * origin, its host and port, and its host name when that names a machine) from text posted where
 * the repository's readers see it: an internal endpoint's address is the deployment's business,
 * not theirs. The server's own log and records keep it. A single-label or loopback host name is
 * kept on its own (too common a word to replace); with its port or in the URL it is hidden.
 */
export function endpointHider(baseUrl: string | undefined): (text: string) => string {
  const forms = endpointForms(baseUrl);
  if (forms.length === 0) return (text) => text;
  // Longest first, so the whole URL wins over its host; never inside a longer name or path word.
  const pattern = new RegExp(
    `(?<![\\w.-])(?:${forms
      .sort((a, b) => b.length - a.length)
      .map(escapeRegExp)
      .join('|')})(?![\\w-]|\\.[\\w-])`,
    'gi',
  );
  return (text) => text.replace(pattern, HIDDEN_ENDPOINT);
}

function endpointForms(baseUrl: string | undefined): string[] {
  if (!baseUrl) return [];
  const forms = new Set<string>([baseUrl.trim().replace(/\/+$/, '')]);
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return [...forms].filter((form) => form.length >= 8);
  }
  const path = url.pathname.replace(/\/+$/, '');
  forms.add(`${url.protocol}//${url.host}${path}`);
  forms.add(`${url.protocol}//${url.host}`);
  if (url.port) forms.add(url.host);
  if (/[.:]/.test(url.hostname) && !LOOPBACK.test(url.hostname)) forms.add(url.hostname);
  return [...forms].filter((form) => form !== '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
