import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The user's package registry configuration (home-relative): registries, scopes, auth tokens. */
export const REGISTRY_CONFIG_FILES: readonly string[] = ['.npmrc', '.yarnrc', '.yarnrc.yml', '.config/pnpm/rc'];

const MAX_CONFIG_BYTES = 1024 * 1024;
// Keys whose values are credentials: `//host/:_authToken=` (.npmrc), `npmAuthToken:` (.yarnrc.yml).
const CREDENTIAL_WORD = /auth|token|password|ident|secret/i;
// The keys themselves (a token may well contain "Token"; only these words are spared).
const CREDENTIAL_KEY =
  /^(_auth|_authToken|_password|npmAuthToken|npmAuthIdent|npmAlwaysAuth|always-auth|username|email|certfile|keyfile|token|password|auth)$/i;
const MIN_SECRET_LENGTH = 6;

/**
 * Copies the user's registry configuration into a setup's private HOME, with `${VAR}` references
 * filled in from Fanout's environment (commands get no secret-named variables, so npm could not).
 * Returns the credential values found, so they can be cut from any output shown later.
 */
export async function copyRegistryConfig(
  userHome: string,
  setupHome: string,
  env: NodeJS.ProcessEnv,
): Promise<{ copied: string[]; secrets: string[] }> {
  const copied: string[] = [];
  const secrets = new Set<string>();
  for (const file of REGISTRY_CONFIG_FILES) {
    const text = await readUserFile(join(userHome, file));
    if (text === null) continue;
    const expanded = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (reference, name: string) => {
      const value = env[name];
      if (value === undefined) return reference;
      if (value.length >= MIN_SECRET_LENGTH) secrets.add(value);
      return value;
    });
    for (const secret of credentialValues(expanded)) secrets.add(secret);
    await mkdir(dirname(join(setupHome, file)), { recursive: true, mode: 0o700 });
    await writeFile(join(setupHome, file), expanded, { mode: 0o600 });
    copied.push(file);
  }
  return { copied, secrets: [...secrets] };
}

/**
 * Credential values on lines naming a credential, in any of the three formats (`.npmrc` ini,
 * classic `.yarnrc` `key "value"`, `.yarnrc.yml`): every longer word of such a line but the key
 * and URLs. Cutting a host name from an error too is the price of never missing a token.
 */
export function credentialValues(text: string): string[] {
  const values: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*[#;]/.test(line) || !CREDENTIAL_WORD.test(line)) continue;
    for (const word of line.split(/[\s=:]+/)) {
      const value = word.replace(/^["']+|["']+$/g, '');
      if (
        value.length < MIN_SECRET_LENGTH ||
        CREDENTIAL_KEY.test(value) ||
        value.startsWith('//') ||
        /^https?$/.test(value)
      )
        continue;
      values.push(value);
    }
  }
  return values;
}

/** A regular file's text (links followed: dotfiles are often links), or null. */
async function readUserFile(path: string): Promise<string | null> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile() || info.size > MAX_CONFIG_BYTES) return null;
  const handle = await open(path, 'r').catch(() => null);
  if (!handle) return null;
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
