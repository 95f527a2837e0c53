import { SandboxError } from '../../domain/errors.js';
import type { SandboxMode } from '../../domain/run.js';

/** Whether this process runs as root (its effective user). */
export function runsAsRoot(): boolean {
  return process.geteuid?.() === 0;
}

/**
 * What `FANOUT_SANDBOX=none` amounts to for this process. As root, every command could rewrite
 * system files (/usr/local/bin, /usr/lib) and every checkout on the machine, so it is refused,
 * unless accepted (FANOUT_ALLOW_ROOT_NONE=1, reported as `none-as-root`) or the commands are
 * Fanout's own (the demo's scripted model).
 */
export function noneSandbox(options: { asRoot: boolean; allowRoot: boolean; trustedCommands: boolean }): SandboxMode {
  if (!options.asRoot) return 'none';
  if (!options.allowRoot && !options.trustedCommands)
    throw new SandboxError(
      'FANOUT_SANDBOX=none refused: Fanout runs as root, so agent commands outside bubblewrap could rewrite system files (/usr/local/bin, /usr/lib), other checkouts and anything else root can write. Run Fanout as an unprivileged user, or install bubblewrap (apt-get install bubblewrap) and set FANOUT_SANDBOX=auto. In a throwaway container or VM, FANOUT_ALLOW_ROOT_NONE=1 accepts this (every report will say so).',
    );
  return 'none-as-root';
}
