// Variable names that carry credentials. Matched as whole words of the name (GH_TOKEN,
// OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, PRIVATE_KEY, NPM_AUTH...), not as any substring.
const SECRET_NAME = /(^|_)(TOKEN|TOKENS|SECRET|SECRETS|KEY|KEYS|APIKEY|PASSWORD|PASSWD|PASS|CREDENTIAL|CREDENTIALS|AUTH|PRIVATE|COOKIE|SESSION)(_|$)/i;

/** True when an environment variable's name says it carries a credential. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

// Shapes of well-known tokens, so a secret is caught in text even when its variable is not.
const SECRET_VALUE = [
  /gh[pousr]_[A-Za-z0-9]{20,}/g,
  /github_pat_[A-Za-z0-9_]{20,}/g,
  /sk-[A-Za-z0-9_-]{20,}/g,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /xox[abpr]-[A-Za-z0-9-]{10,}/g,
];

/** Replaces known secret values and token shapes in text that may be logged or posted. */
export function redactSecrets(text: string, knownSecrets: readonly string[] = []): string {
  let result = text;
  for (const secret of knownSecrets) {
    if (secret.length >= 6) result = result.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_VALUE) result = result.replace(pattern, '[redacted]');
  return result;
}
