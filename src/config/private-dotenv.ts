import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/** `.env` holds the App's private key and webhook secret: readable by its owner only. */
export const DOTENV_MODE = 0o600;

/**
 * Merges `updates` into `.env` in `directory` and writes it 0600 whatever the umask, replacing an
 * older file that others could read; the values reach `target` too. Probot's setup calls this
 * instead of its own `updateEnv` (which writes 0644) when it saves the App's credentials; the
 * format is Probot's: `NAME=value` lines, line breaks written as `\n`.
 */
export function updatePrivateDotEnv(
  updates: NodeJS.ProcessEnv,
  directory: string = process.cwd(),
  target: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const path = join(directory, '.env');
  const merged: NodeJS.ProcessEnv = { ...readDotEnv(path), ...updates };
  const text = Object.entries(merged)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${formatValue(value)}`)
    .join('\n');
  // A new file, private from its first byte, renamed over the old one.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: DOTENV_MODE, flag: 'w' });
  chmodSync(temporary, DOTENV_MODE);
  renameSync(temporary, path);
  Object.assign(target, merged);
  return merged;
}

/**
 * Line breaks as `\n`, inside double quotes so that they read back as line breaks (a value read
 * from the file, such as an earlier private key); Probot passes the key already quoted.
 */
function formatValue(value: string): string {
  const escaped = value.replace(/\n/g, '\\n');
  return value.includes('\n') && !/^"[\s\S]*"$/.test(value) ? `"${escaped}"` : escaped;
}

function readDotEnv(path: string): NodeJS.ProcessEnv {
  try {
    return parseEnv(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
