import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CliBinary } from '../../ports/agent-backend.js';
import { ConfigError } from '../../domain/errors.js';

const run = promisify(execFile);

/** What Fanout knows of one agent CLI: how it is called, where it may be, which versions it was tested with. */
export interface CliRequirement {
  /** As users name it (`claude-code`). */
  backend: string;
  /** The command on PATH (`claude`). */
  command: string;
  /** The variable that points at it (`FANOUT_CLAUDE_CODE_PATH`). */
  variable: string;
  /** Tested versions: at least `min`, below `below` (semver, major.minor.patch). */
  versions: { min: string; below: string };
  /** How to install it, for the refusal. */
  install: string;
  /** The version in what `--version` prints. */
  parseVersion(output: string): string | null;
  /** The binary to run and the directories it runs from, given the one found (a launcher may point at a native binary). */
  resolve?(found: string): { path: string; installation: string[] };
}

// Fanout's own dev install (`npm ci` puts the pinned CLIs there): the demo and the tests use it.
const OWN_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node_modules', '.bin');

/**
 * Finds an agent CLI (the variable's path, else PATH, else Fanout's own install), asks its version,
 * and refuses one outside the tested range, naming the versions Fanout knows.
 */
export async function locateCli(
  requirement: CliRequirement,
  env: Record<string, string | undefined>,
): Promise<CliBinary> {
  const configured = env[requirement.variable];
  const candidates = configured
    ? [configured]
    : [...(env.PATH ?? '').split(delimiter).filter(Boolean), OWN_BIN].map((dir) => join(dir, requirement.command));
  const found = candidates.find(executable);
  if (!found) {
    throw new ConfigError(
      configured
        ? `${requirement.variable}=${configured} is not an executable file.`
        : `The ${requirement.backend} agent needs \`${requirement.command}\` (${requirement.versions.min} up to, not including, ${requirement.versions.below}), and it is not on PATH. ${requirement.install}, or set ${requirement.variable}.`,
    );
  }
  const { path, installation } = requirement.resolve?.(found) ?? {
    path: realpathSync(found),
    installation: [dirname(realpathSync(found))],
  };
  let output: string;
  try {
    output = (await run(path, ['--version'], { timeout: 30_000, env: { PATH: env.PATH ?? '' } })).stdout;
  } catch (error) {
    throw new ConfigError(
      `${found} --version failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); is it the ${requirement.backend} CLI?`,
    );
  }
  const version = requirement.parseVersion(output);
  if (!version || !inRange(version, requirement.versions)) {
    throw new ConfigError(
      `${found} is ${requirement.command} ${version ?? `of an unknown version ("${output.trim().slice(0, 80)}")`}; Fanout's ${requirement.backend} backend is tested with ${requirement.versions.min} up to, not including, ${requirement.versions.below}. ${requirement.install}, or point ${requirement.variable} at one.`,
    );
  }
  return { path, version, installation };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `version` is at least `min` and below `below` (major.minor.patch, numerically). */
export function inRange(version: string, range: { min: string; below: string }): boolean {
  return compare(version, range.min) >= 0 && compare(version, range.below) < 0;
}

function compare(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let index = 0; index < 3; index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
