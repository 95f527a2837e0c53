import { readFileSync } from 'node:fs';
import { ConfigError } from '../domain/errors.js';
import type { Env } from './env.js';

/** The settings that may hold secrets; every one is optional, so callers pass what they have. */
export type SecretSettings = Partial<
  Pick<
    Env,
    | 'OPENAI_API_KEY'
    | 'OPENAI_BASE_URL'
    | 'ANTHROPIC_API_KEY'
    | 'ANTHROPIC_BASE_URL'
    | 'PRIVATE_KEY'
    | 'PRIVATE_KEY_PATH'
    | 'WEBHOOK_SECRET'
    | 'GITHUB_TOKEN'
    | 'REDIS_URL'
  >
>;

/** Reads a file as text (tests pass their own). */
export type ReadTextFile = (path: string) => string;

/**
 * Every secret value the configuration holds, for the redactor: the model API keys, the App private
 * key (inline, or the file at PRIVATE_KEY_PATH), the webhook secret, GITHUB_TOKEN, and passwords
 * written into OPENAI_BASE_URL or REDIS_URL. A PRIVATE_KEY_PATH that cannot be read is a ConfigError.
 */
export function secretsFromEnv(
  env: SecretSettings,
  readFile: ReadTextFile = (path) => readFileSync(path, 'utf8'),
): string[] {
  const secrets = [
    env.OPENAI_API_KEY,
    env.ANTHROPIC_API_KEY,
    env.WEBHOOK_SECRET,
    env.GITHUB_TOKEN,
    urlPassword(env.OPENAI_BASE_URL),
    urlPassword(env.ANTHROPIC_BASE_URL),
    urlPassword(env.REDIS_URL),
  ];
  if (env.PRIVATE_KEY) secrets.push(...privateKeyForms(env.PRIVATE_KEY));
  if (env.PRIVATE_KEY_PATH) secrets.push(...privateKeyForms(readKeyFile(env.PRIVATE_KEY_PATH, readFile)));
  return secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
}

/**
 * The App's private key as PEM, from PRIVATE_KEY (PEM, PEM with `\n` escapes, or base64 of PEM,
 * as Probot accepts) or the file at PRIVATE_KEY_PATH; null when neither is set.
 */
export function privateKeyFromEnv(
  env: SecretSettings,
  readFile: ReadTextFile = (path) => readFileSync(path, 'utf8'),
): string | null {
  const raw = env.PRIVATE_KEY ?? (env.PRIVATE_KEY_PATH ? readKeyFile(env.PRIVATE_KEY_PATH, readFile) : null);
  if (raw === null) return null;
  const pem = privateKeyForms(raw).find((form) => form.includes('-----BEGIN'));
  if (!pem)
    throw new ConfigError(
      `${env.PRIVATE_KEY ? 'PRIVATE_KEY' : 'PRIVATE_KEY_PATH'} does not hold a PEM private key (-----BEGIN ... PRIVATE KEY-----), nor base64 of one.`,
    );
  return pem.replace(/\\n/g, '\n');
}

/** The key as given and, when it is base64 of a PEM key (which Probot accepts), decoded too. */
function privateKeyForms(value: string): string[] {
  if (value.includes('-----BEGIN')) return [value];
  const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
  return decoded.includes('-----BEGIN') ? [value, decoded] : [value];
}

function readKeyFile(path: string, readFile: ReadTextFile): string {
  try {
    return readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(`PRIVATE_KEY_PATH: there is no file at ${path}.`);
    throw new ConfigError(`PRIVATE_KEY_PATH: cannot read ${path} (${code ?? String(error)}).`);
  }
}

function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
