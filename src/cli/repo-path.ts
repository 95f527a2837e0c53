import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './errors.js';

/**
 * The repository a command works on: `--repo`, else the directory the user ran the command from.
 * Under `npm run fanout` the process runs in Fanout's own checkout; npm names the user's
 * directory in INIT_CWD, so a run never lands in Fanout's own repository by accident.
 */
export function repositoryPath(given: string | undefined, environment: NodeJS.ProcessEnv = process.env): string {
  const path = resolve(given ?? environment.INIT_CWD ?? process.cwd());
  if (!existsSync(path)) throw new UsageError(`${given !== undefined ? '--repo ' : ''}${path} does not exist.`);
  if (!statSync(path).isDirectory())
    throw new UsageError(`${path} is not a directory; --repo names a git repository's directory.`);
  return path;
}
