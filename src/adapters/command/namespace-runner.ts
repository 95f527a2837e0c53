import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';

/**
 * `FANOUT_SANDBOX=none`: no file system confinement, but each command still runs in its own user,
 * PID and mount namespace with a fresh /proc and no capabilities. So it cannot see Fanout's
 * process (or any other) and read secrets from `/proc/<pid>/environ` or `ps e`, and everything it
 * starts, `setsid` and `nohup` included, dies with it.
 */
export class NamespaceCommandRunner implements CommandRunner {
  constructor(
    private readonly inner: CommandRunner,
    private readonly options: { mapCurrentUser: boolean },
  ) {}

  privateHome(): Promise<PrivateHome> {
    return this.inner.privateHome();
  }

  run(request: CommandRequest): Promise<CommandResult> {
    return this.inner.run({ ...request, argv: [...namespacePrefix(this.options.mapCurrentUser), ...request.argv] });
  }
}

/** `unshare` + `setpriv` arguments that isolate a command; `mapCurrentUser` needs util-linux 2.38 (else it appears as root). */
export function namespacePrefix(mapCurrentUser: boolean): string[] {
  return [
    'unshare', '--user', mapCurrentUser ? '--map-current-user' : '--map-root-user', '--pid', '--fork', '--kill-child', '--mount-proc',
    // The new namespace's root could unmount the fresh /proc and see the host's: drop every capability first.
    'setpriv', '--no-new-privs', '--bounding-set=-all', '--inh-caps=-all', '--',
  ];
}
