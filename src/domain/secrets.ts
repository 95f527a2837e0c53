// Variable names that carry credentials. Matched as whole words of the name (GH_TOKEN,
// OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, PRIVATE_KEY, NPM_AUTH...), not as any substring.
const SECRET_NAME =
  /(^|_)(TOKEN|TOKENS|SECRET|SECRETS|KEY|KEYS|APIKEY|PASSWORD|PASSWD|PASS|CREDENTIAL|CREDENTIALS|AUTH|PRIVATE|COOKIE|SESSION)(_|$)/i;

/** True when an environment variable's name says it carries a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Known values shorter than this are not treated as secrets: a short value ("test", "no-key",
 * a port number) occurs in ordinary text too often, and redacting it would mangle that text.
 */
export const MIN_SECRET_LENGTH = 8;

/** What a redacted secret is replaced with. */
export const REDACTED = '[redacted]';

// Shapes of well-known tokens, so a secret is caught in text even when its variable is not.
// The leading \b keeps words such as "task-management-components" from matching `sk-...`.
const SECRET_VALUE = [
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}/g,
];

/** Replaces text shaped like a well-known token (GitHub, OpenAI, Slack, a PEM private key). */
export function redactTokenShapes(text: string): string {
  let result = text;
  for (const pattern of SECRET_VALUE) result = result.replace(pattern, REDACTED);
  return result;
}

/** Replaces known secret values and token shapes in text that may be logged or posted. */
export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (secret.length >= MIN_SECRET_LENGTH) result = result.split(secret).join(REDACTED);
  }
  return redactTokenShapes(result);
}
