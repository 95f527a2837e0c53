import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError } from '../domain/errors.js';

/** The `.env` file Fanout reads from a directory (the one it starts in); its commands never see it. */
export function dotEnvFile(directory: string): string {
  return join(directory, '.env');
}

/**
 * Reads `.env` from a directory into the environment, as Probot does, except that variables
 * already set win: a deployment's real environment is never overridden by a file lying around.
 * Returns the names it set.
 */
export function loadDotEnv(directory: string, target: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(dotEnvFile(directory), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(`Cannot read ${dotEnvFile(directory)}: ${(error as Error).message}`);
  }
  const set: string[] = [];
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (target[name] !== undefined) continue;
    target[name] = value;
    set.push(name);
  }
  return set;
}
