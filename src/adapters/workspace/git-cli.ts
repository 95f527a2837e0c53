import { SpawnHelper } from '../process/spawn-helper.js';
import { DriverNameCache } from './driver-cache.js';

// Process-wide on purpose, like libuv's thread pool: every git command of every adapter shares
// one small helper to start it, and one memory of each repository's driver names.
const HELPER = new SpawnHelper();
const DRIVER_NAMES = new DriverNameCache();
import { DiskFullError, WorkspaceError } from '../../domain/errors.js';
import { fullFilesystem } from '../disk-full.js';
import { systemProgram } from '../system-programs.js';

export interface GitOptions {
  cwd: string;
  /** Run against this git dir and work tree instead of trusting a `.git` file an agent could rewrite. */
  gitDir?: string;
  /**
   * The repository's shared git dir from Fanout's own records: with a linked worktree's `gitDir`,
   * git would otherwise read it from that directory's `commondir` file.
   */
  commonDir?: string;
  workTree?: string;
  /** A global config file to honour instead of none (e.g. URL rewrites); hardening still overrides it. */
  globalConfig?: string;
  /** Kills git after this long (default 10 minutes): a huge or sparse file must not hold a run forever. */
  timeoutMs?: number;
  env?: Record<string, string>;
  input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 from `git diff --quiet`). */
  allowExitCodes?: number[];
  /** Work nobody waits for (tidying a pool slot): it yields the CPU to what someone does wait for. */
  background?: boolean;
}

export interface GitResult {
  stdout: string;
  /** What git said on stderr (why an allowed exit code happened, for messages). */
  stderr: string;
  exitCode: number;
}

// Settings an agent could plant in the shared repository config (or an included file) to get
// code run by Fanout's own git commands. Command-line `-c` beats every config file.
const HARDENING = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.sshCommand=ssh',
  'core.askPass=',
  'credential.helper=',
  'core.editor=true',
  'sequence.editor=true',
  'core.pager=cat',
  'diff.external=',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'protocol.ext.allow=never',
  'gc.auto=0',
  // A nested repository (a submodule, or one an agent made) has config and drivers of its own;
  // git would run it for status and diff. Fanout never looks inside submodules.
  'diff.ignoreSubmodules=all',
  'status.submoduleSummary=false',
  'submodule.recurse=false',
  'fetch.recurseSubmodules=false',
  'push.recurseSubmodules=no',
  // A proxy or disabled TLS checks would hand the push credentials to someone else.
  'http.proxy=',
  'http.sslVerify=true',
  'maintenance.auto=false',
];

// Driver keys that run commands; every configured driver name gets them emptied.
const DRIVER_KEY = /^(filter|merge|diff)\.(.+)\.(clean|smudge|process|driver|command|textconv|required)$/;

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

// Enough for the scheduler to favour foreground git (a quarter of its share), not so much that a
// claim waiting for a tidy starves.
const BACKGROUND_NICENESS = 5;

// Environment variables that change which config git reads.
const CONFIG_VARIABLE = /^(GIT_CONFIG|GIT_DIR$|GIT_COMMON_DIR$|GIT_WORK_TREE$|HOME$|XDG_CONFIG_HOME$)/;

// Subcommands that read or write refs and objects by id but never run a filter, a textconv, a
// diff or merge driver on file contents. (Not write-tree: it refreshes the index, which can run a
// clean filter; the hardening test plants one to keep this list honest.)
// diff-tree compares trees only, so it reads no working file; plumbing runs no textconv or
// external diff unless asked (Fanout never asks).
const DRIVER_FREE = new Set([
  'rev-parse',
  'merge-base',
  'cat-file',
  'ls-tree',
  'for-each-ref',
  'branch',
  'fetch',
  'init',
  'config',
  'rev-list',
  'show-ref',
  'commit-tree',
  'update-ref',
  'symbolic-ref',
  'diff-tree',
]);

/** Whether this git command can never run a filter or driver (so listing them can be skipped). */
function driverFree(args: readonly string[]): boolean {
  const [command = '', subcommand = ''] = args;
  if (DRIVER_FREE.has(command)) return true;
  // The index against a tree: object ids only, no working file is hashed through a clean filter.
  if (command === 'diff-index') return args.includes('--cached');
  return command === 'worktree' && subcommand === 'list';
}

/**
 * Runs a system program (never one planted on PATH) from the same helper as git, with only PATH
 * and LC_ALL in its environment; throws unless it exits 0.
 */
export async function runSystemProgram(
  name: string,
  args: readonly string[],
  options: { cwd: string; input?: string; timeoutMs?: number },
): Promise<string> {
  const result = await HELPER.run({
    file: systemProgram(name),
    args,
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  if (result.exitCode !== 0)
    throw new WorkspaceError(
      'git-failed',
      `${name} failed (${result.error ?? `exit ${result.exitCode ?? result.signal}`}) in ${options.cwd}: ${result.stderr.trim().slice(-500)}`,
    );
  return result.stdout;
}

/** Runs git with argument arrays, a scrubbed environment, and hooks, filters and drivers disabled. */
export async function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const base = gitEnv(options);
  // Listing the configured drivers costs a second git process; commands that never filter, diff
  // or merge file contents have no driver to run.
  const drivers = driverFree(args) ? [] : await neutralizedDrivers(options, base);
  // Overrides travel as GIT_CONFIG_* variables, not `-c`: git splits `-c name=value` at the first
  // `=`, so a driver named `a=b` would dodge a `-c`, and variables also keep tokens out of argv.
  const env = withConfig(base, [...HARDENING.map(splitSetting), ...drivers, ...callerConfig(options.env ?? {})]);
  const location = [
    ...(options.gitDir ? [`--git-dir=${options.gitDir}`] : []),
    ...(options.workTree ? [`--work-tree=${options.workTree}`] : []),
  ];
  const result = await HELPER.run({
    file: systemProgram('git'),
    args: [...location, ...args],
    cwd: options.cwd,
    env,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.background ? { niceness: BACKGROUND_NICENESS } : {}),
  }).catch((error: unknown) => {
    // Not retried: the command may have run (a compare-and-swap must not be asked twice).
    throw new WorkspaceError(
      'git-failed',
      `git ${args.slice(0, 3).join(' ')} in ${options.cwd} did not report back: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  });
  if (result.timedOut) {
    throw new WorkspaceError(
      'git-timeout',
      `git ${args.slice(0, 3).join(' ')} took longer than ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s in ${options.cwd} and was stopped`,
    );
  }
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(options.allowExitCodes ?? []).includes(exitCode)) {
    const tail = `${String(result.stderr)}${String(result.stdout)}`.trim().slice(-2000);
    const failed = new WorkspaceError(
      'git-failed',
      `git ${args.slice(0, 3).join(' ')} failed (exit ${exitCode}) in ${options.cwd}: ${tail}`,
    );
    // Git says "No space left on device" only in words: the filesystems it writes to say it as a fact.
    const full = await fullFilesystem(
      [options.cwd, options.gitDir, options.commonDir, options.workTree].filter((path) => path !== undefined),
    );
    if (full)
      throw new DiskFullError(`running git ${args.slice(0, 3).join(' ')} in ${options.cwd}`, 'ENOSPC', {
        cause: failed,
      });
    throw failed;
  }
  return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode };
}

function splitSetting(setting: string): [string, string] {
  const equals = setting.indexOf('=');
  return [setting.slice(0, equals), setting.slice(equals + 1)];
}

/** The GIT_CONFIG_* entries a caller passed (e.g. push credentials), so they can be renumbered after Fanout's. */
function callerConfig(env: Record<string, string>): Array<[string, string]> {
  const count = Number(env.GIT_CONFIG_COUNT ?? 0);
  return Array.from({ length: count }, (_, index): [string, string] => [
    env[`GIT_CONFIG_KEY_${index}`] ?? '',
    env[`GIT_CONFIG_VALUE_${index}`] ?? '',
  ]).filter(([key]) => key !== '');
}

function withConfig(
  env: Record<string, string>,
  entries: ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (!name.startsWith('GIT_CONFIG_KEY_') && !name.startsWith('GIT_CONFIG_VALUE_')) result[name] = value;
  result.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([key, value], index) => {
    result[`GIT_CONFIG_KEY_${index}`] = key;
    result[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return result;
}

function gitEnv(options: GitOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    LANG: 'C',
    LC_ALL: 'C',
    // Ignore the machine's and user's config: only the repository's, overridden above, applies.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: options.globalConfig ?? '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    ...(options.commonDir ? { GIT_COMMON_DIR: options.commonDir } : {}),
    ...options.env,
  };
  delete env.GIT_CONFIG_COUNT;
  return env;
}

async function neutralizedDrivers(options: GitOptions, env: Record<string, string>): Promise<Array<[string, string]>> {
  const list = () => driverNames(options, env);
  // Config the caller's environment adds (a push's credentials, an operator's global file) is not
  // part of what the cache watches: such commands list every time.
  const names = Object.keys(options.env ?? {}).every((name) => !CONFIG_VARIABLE.test(name))
    ? await DRIVER_NAMES.names(
        {
          cwd: options.cwd,
          ...(options.gitDir ? { gitDir: options.gitDir } : {}),
          ...(options.commonDir ? { commonDir: options.commonDir } : {}),
          ...(options.globalConfig ? { globalConfig: options.globalConfig } : {}),
        },
        list,
      )
    : await list();
  return names.flatMap((name): Array<[string, string]> =>
    name.startsWith('filter.')
      ? [
          [`${name}.clean`, ''],
          [`${name}.smudge`, ''],
          [`${name}.process`, ''],
          [`${name}.required`, 'false'],
        ]
      : name.startsWith('merge.')
        ? [[`${name}.driver`, '']]
        : [
            [`${name}.command`, ''],
            [`${name}.textconv`, ''],
          ],
  );
}

/** The names (`filter.x`, `diff.y`, `merge.z`) of every driver the config git would read defines. */
async function driverNames(options: GitOptions, env: Record<string, string>): Promise<string[]> {
  const location = options.gitDir ? [`--git-dir=${options.gitDir}`] : [];
  // Reading config runs nothing; it does follow include.path, which is what we want to see.
  const listed = await HELPER.run({
    file: systemProgram('git'),
    args: [...location, 'config', '--null', '--name-only', '--get-regexp', '^(filter|merge|diff)\\.'],
    cwd: options.cwd,
    env,
    timeoutMs: 30_000,
  });
  const names = new Set<string>();
  for (const key of String(listed.stdout).split('\0')) {
    const match = DRIVER_KEY.exec(key.trim());
    if (match) names.add(`${match[1]}.${match[2]}`);
  }
  return [...names];
}
