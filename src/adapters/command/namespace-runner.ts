import { systemProgram } from '../system-programs.js';
import type { CommandRequest, CommandResult, CommandRunner, PrivateHome } from '../../ports/command-runner.js';

/**
 * `FANOUT_SANDBOX=none`: no file system confinement, but each command still runs in its own user,
 * PID, mount and (unless `network: true`) network namespace, with a fresh /proc and no capabilities. So it cannot see Fanout's
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
    return this.inner.run({ ...request, argv: [...namespacePrefix(this.options.mapCurrentUser, request.network === true), ...request.argv] });
  }
}

/**
 * `unshare` + `setpriv` arguments that isolate a command (its own network namespace, with only a
 * loopback, unless it may use the network); `mapCurrentUser` needs util-linux 2.38 (else it appears as root).
 */
export function namespacePrefix(mapCurrentUser: boolean, network = false): string[] {
  return [
    systemProgram('unshare'), '--user', mapCurrentUser ? '--map-current-user' : '--map-root-user', '--pid', '--fork', '--kill-child', '--mount-proc', ...(network ? [] : ['--net']),
    // The new namespace's root could unmount the fresh /proc and see the host's: drop every capability first.
    systemProgram('setpriv'), '--no-new-privs', '--bounding-set=-all', '--inh-caps=-all', '--',
  ];
}
