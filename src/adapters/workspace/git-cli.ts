import { execa } from 'execa';
import { WorkspaceError } from '../../domain/errors.js';

export interface GitOptions {
  cwd: string;
  /** Run against this git dir and work tree instead of trusting a `.git` file an agent could rewrite. */
  gitDir?: string;
  workTree?: string;
  env?: Record<string, string>;
  input?: string;
  /** Exit codes that are answers, not failures (e.g. 1 from `git diff --quiet`). */
  allowExitCodes?: number[];
}

export interface GitResult {
  stdout: string;
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
  'maintenance.auto=false',
];

// Driver keys that run commands; every configured driver name gets them emptied.
const DRIVER_KEY = /^(filter|merge|diff)\.(.+)\.(clean|smudge|process|driver|command|textconv|required)$/;

/** Runs git with argument arrays, a scrubbed environment, and hooks, filters and drivers disabled. */
export async function runGit(args: readonly string[], options: GitOptions): Promise<GitResult> {
  const env = gitEnv(options);
  const drivers = await neutralizedDrivers(options, env);
  const location = [
    ...(options.gitDir ? [`--git-dir=${options.gitDir}`] : []),
    ...(options.workTree ? [`--work-tree=${options.workTree}`] : []),
  ];
  const full = [...location, ...[...HARDENING, ...drivers].flatMap((setting) => ['-c', setting]), ...args];
  const result = await execa('git', full, {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(options.allowExitCodes ?? []).includes(exitCode)) {
    const tail = `${String(result.stderr)}${String(result.stdout)}`.trim().slice(-2000);
    throw new WorkspaceError('git-failed', `git ${args.slice(0, 3).join(' ')} failed (exit ${exitCode}) in ${options.cwd}: ${tail}`);
  }
  return { stdout: String(result.stdout), exitCode };
}

function gitEnv(options: GitOptions): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/',
    LANG: 'C',
    LC_ALL: 'C',
    // Ignore the machine's and user's config: only the repository's, overridden above, applies.
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    ...options.env,
  };
  return env;
}

async function neutralizedDrivers(options: GitOptions, env: Record<string, string>): Promise<string[]> {
  const location = options.gitDir ? [`--git-dir=${options.gitDir}`] : [];
  // Reading config runs nothing; it does follow include.path, which is what we want to see.
  const listed = await execa('git', [...location, 'config', '--name-only', '--get-regexp', '^(filter|merge|diff)\\.'], {
    cwd: options.cwd,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
  });
  const names = new Set<string>();
  for (const line of String(listed.stdout).split('\n')) {
    const match = DRIVER_KEY.exec(line.trim());
    if (match) names.add(`${match[1]}.${match[2]}`);
  }
  return [...names].flatMap((name) =>
    name.startsWith('filter.')
      ? [`${name}.clean=`, `${name}.smudge=`, `${name}.process=`, `${name}.required=false`]
      : name.startsWith('merge.')
        ? [`${name}.driver=`]
        : [`${name}.command=`, `${name}.textconv=`],
  );
}
