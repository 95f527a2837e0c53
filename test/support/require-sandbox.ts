import { describe, it } from 'vitest';
import { sandboxSupport, userNetworkSupport, type SandboxSupport } from '../../src/adapters/command/sandbox-support.js';

/**
 * Runs a sandbox suite when the machine supports it. In CI a missing sandbox fails (CI installs
 * bubblewrap, so "skipped" would hide a broken setup); on a developer's machine it is skipped, by name.
 */
export function describeWithSandbox(
  name: string,
  needs: keyof Pick<SandboxSupport, 'bwrap' | 'namespaces'> | 'userNetwork',
  suite: () => void,
): void {
  const network = needs === 'userNetwork' ? userNetworkSupport() : null;
  if (network ? network.ok : sandboxSupport()[needs as 'bwrap' | 'namespaces']) {
    describe(name, suite);
    return;
  }
  const why =
    network && !network.ok
      ? `networked commands need their own network: ${network.problem}`
      : needs === 'bwrap'
        ? 'bubblewrap is not installed or cannot create namespaces (apt-get install bubblewrap)'
        : `unshare cannot create user and PID namespaces here (${sandboxSupport().namespaceProblem ?? 'unknown'})`;
  if (process.env.CI) {
    describe(name, () => {
      it(`needs the sandbox: ${why}`, () => {
        throw new Error(`CI must run the sandbox tests, but ${why}`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, suite);
}
