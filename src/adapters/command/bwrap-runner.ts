import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';

export interface BwrapOptions {
  /** Host paths hidden behind an empty tmpfs (the real HOME, Fanout's state, the App's key directory). */
  hiddenPaths: readonly string[];
}

/**
 * Runs each command inside bubblewrap: the whole file system read-only, a private /tmp, only the
 * command's working directory (the worktree) and its HOME writable, its own PID namespace so
 * nothing it starts outlives it. Wraps another runner, which keeps timeouts and output caps.
 */
export class BwrapCommandRunner implements CommandRunner {
  constructor(
    private readonly inner: CommandRunner,
    private readonly options: BwrapOptions,
  ) {}

  privateHome(): Promise<PrivateHome> {
    return this.inner.privateHome();
  }

  run(request: CommandRequest): Promise<CommandResult> {
    const home = request.env?.HOME;
    const argv = [
      'bwrap',
      '--ro-bind', '/', '/',
      '--dev', '/dev',
      '--proc', '/proc',
      '--tmpfs', '/tmp',
      ...this.options.hiddenPaths.flatMap(hideArguments),
      '--bind', request.cwd, request.cwd,
      ...(home ? ['--bind', home, home] : []),
      '--unshare-pid',
      '--unshare-ipc',
      '--die-with-parent',
      '--new-session',
      '--chdir', request.cwd,
      '--',
      ...request.argv,
    ];
    return this.inner.run({ ...request, argv });
  }
}

/** Directories become empty tmpfs, files become /dev/null; paths that do not exist need no hiding. */
function hideArguments(path: string): string[] {
  try {
    return statSync(path).isDirectory() ? ['--tmpfs', path] : ['--ro-bind', '/dev/null', path];
  } catch {
    return [];
  }
}

/** Credential stores under the user's home that agent commands have no business reading. */
export function defaultHiddenPaths(home = homedir()): string[] {
  return ['.ssh', '.aws', '.azure', '.config/gcloud', '.config/gh', '.docker', '.kube', '.gnupg', '.npmrc', '.yarnrc.yml', '.git-credentials', '.netrc', '.pypirc'].map((path) =>
    join(home, path),
  );
}

/** True when bubblewrap is installed and allowed to create namespaces here. */
export function bwrapAvailable(): boolean {
  try {
    execFileSync('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--', 'true'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}
