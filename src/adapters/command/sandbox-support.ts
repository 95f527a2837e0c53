import { execFileSync } from 'node:child_process';
import { isAbsolute } from 'node:path';
import { systemProgram } from '../system-programs.js';
import { namespacePrefix } from './namespace-runner.js';
import { limitsSupport, type LimitsSupport } from './resource-limits.js';

/** What this machine allows for isolating commands. */
export interface SandboxSupport {
  /** bubblewrap is installed and may create the namespaces the sandbox uses. */
  bwrap: boolean;
  /** bubblewrap knows `--disable-userns` (0.8+). */
  bwrapDisablesUserns: boolean;
  /** `unshare` can give a command its own user and PID namespace (what `none` still requires). */
  namespaces: boolean;
  /** `unshare --map-current-user` exists (util-linux 2.38+). */
  mapCurrentUser: boolean;
  /** Why namespaces are unavailable, for the error message. */
  namespaceProblem?: string;
  /** How commands' processes and memory can be bounded here (cgroups, else rlimits). */
  limits?: LimitsSupport;
}

let cached: SandboxSupport | undefined;

/** Probes once per process (a few short-lived processes). */
export function sandboxSupport(): SandboxSupport {
  cached ??= probe();
  return cached;
}

function probe(): SandboxSupport {
  const bwrap = succeeds('bwrap', [
    '--unshare-user',
    '--unshare-pid',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--proc',
    '/proc',
    '--',
    'true',
  ]);
  const bwrapDisablesUserns =
    bwrap && succeeds('bwrap', ['--unshare-user', '--disable-userns', '--ro-bind', '/', '/', '--', 'true']);
  const current = attempt('unshare', [...namespacePrefix(true), 'true']);
  const mapped = current === null ? null : attempt('unshare', [...namespacePrefix(false), 'true']);
  return {
    bwrap,
    bwrapDisablesUserns,
    namespaces: current === null || mapped === null,
    mapCurrentUser: current === null,
    ...(current !== null && mapped !== null ? { namespaceProblem: mapped } : {}),
    limits: limitsSupport(),
  };
}

/** Whether networked commands can get a network of their own: pasta (with its path) and ip are installed. */
export type UserNetworkSupport = { ok: true; pasta: string } | { ok: false; problem: string };

/**
 * Looks for pasta (Debian's passt package) and ip (iproute2), which networked commands need: they
 * run in a network namespace of their own, never on the host's network.
 */
export function userNetworkSupport(): UserNetworkSupport {
  const pasta = systemProgram('pasta');
  if (!isAbsolute(pasta)) return { ok: false, problem: 'pasta is not installed (apt-get install passt)' };
  if (!isAbsolute(systemProgram('ip'))) return { ok: false, problem: 'ip is not installed (apt-get install iproute2)' };
  return { ok: true, pasta };
}

function succeeds(program: string, args: string[]): boolean {
  return attempt(program, args) === null;
}

/** Null when the command ran and exited 0, else what went wrong. */
function attempt(program: string, args: string[]): string | null {
  try {
    execFileSync(program, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    return null;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error as Error).message;
  }
}
