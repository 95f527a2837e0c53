import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';
import { systemProgram } from '../system-programs.js';
import { bwrapArguments } from './bwrap-arguments.js';
import { etcEntries } from './etc-allow-list.js';
import { GitConfigCopies } from './git-config-copy.js';
import { runWithUserNetwork, type UserNetworkOptions } from './user-network.js';

import { SYSTEM_PATHS } from './system-paths.js';

export { SYSTEM_PATHS };

export interface BwrapOptions {
  /** Tool installations outside the system directories (from `toolchainPaths`), mounted read-only. */
  toolPaths?: readonly string[];
  /** Host paths hidden even inside a mounted directory (credential files, Fanout's state, the App's key). */
  hiddenPaths: readonly string[];
  /** Whether this bwrap can forbid user namespaces inside the sandbox (0.8+). */
  canDisableUserns?: boolean;
  /** What of /etc commands see (default: the allow-listed entries of this machine's /etc). */
  etcPaths?: readonly string[];
  /** How networked commands get their own network (defaults from this machine). */
  network?: UserNetworkOptions;
}

/**
 * Runs each command inside bubblewrap. The command sees the system directories, what tools need
 * of /etc, and its tools read-only (of /opt only those), its worktree and private HOME writable, its worktree's git directory and the
 * repository's shared one read-only (with a sanitized config); not the user's home or checkout,
 * not Fanout's state, no host process, no network unless the request allows it (then outbound
 * only: `runWithUserNetwork`), and no capabilities. Its own PID namespace means nothing it
 * starts outlives it. Wraps another runner, which keeps timeouts and output caps.
 */
export class BwrapCommandRunner implements CommandRunner {
  /** Each command is the first process of its own PID namespace: everything it started ends with it. */
  readonly confinesProcesses = true;
  private readonly configCopies = new GitConfigCopies();
  private readonly etcPaths: readonly string[];

  constructor(
    private readonly inner: CommandRunner,
    private readonly options: BwrapOptions,
  ) {
    this.etcPaths = options.etcPaths ?? etcEntries();
  }

  privateHome(): Promise<PrivateHome> {
    return this.inner.privateHome();
  }

  async run(request: CommandRequest): Promise<CommandResult> {
    const home = request.env?.HOME;
    const git = request.git
      ? {
          ...request.git,
          configCopy: await this.configCopies.copyFor(request.git.commonDir),
          packedRefsCopy: await this.configCopies.packedRefsFor(request.git.commonDir),
        }
      : undefined;
    const layout = bwrapArguments({
      systemPaths: SYSTEM_PATHS,
      etcPaths: this.etcPaths,
      toolPaths: [...(this.options.toolPaths ?? []), ...(request.toolPaths ?? [])],
      hiddenPaths: this.options.hiddenPaths,
      cwd: request.cwd,
      ...(home ? { home } : {}),
      ...(git ? { git } : {}),
      network: request.network === true,
      canDisableUserns: this.options.canDisableUserns ?? false,
    });
    const argv = [systemProgram('bwrap'), ...layout, '--', ...request.argv];
    return runWithUserNetwork(this.inner, { ...request, argv }, this.options.network);
  }
}

/** Credential stores under the user's home, and the system's, that agent commands have no business reading. */
export function defaultHiddenPaths(home = homedir()): string[] {
  const system = [
    '/etc/shadow',
    '/etc/gshadow',
    '/etc/shadow-',
    '/etc/gshadow-',
    '/etc/sudoers',
    '/etc/ssl/private',
    '/etc/ssh',
  ];
  return [
    ...system,
    ...[
      '.ssh',
      '.aws',
      '.azure',
      '.config/gcloud',
      '.config/gh',
      '.docker',
      '.kube',
      '.gnupg',
      '.npmrc',
      '.yarnrc.yml',
      '.git-credentials',
      '.gitconfig',
      '.netrc',
      '.pypirc',
      '.cargo/credentials',
      '.cargo/credentials.toml',
      '.env',
    ].map((path) => join(home, path)),
  ];
}
