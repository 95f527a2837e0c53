import { describe, it } from 'vitest';
import { sandboxSupport, type SandboxSupport } from '../../src/adapters/command/sandbox-support.js';

/**
 * Runs a sandbox suite when the machine supports it. In CI a missing sandbox fails (CI installs
 * bubblewrap, so "skipped" would hide a broken setup); on a developer's machine it is skipped, by name.
 */
export function describeWithSandbox(
  name: string,
  needs: keyof Pick<SandboxSupport, 'bwrap' | 'namespaces'>,
  suite: () => void,
): void {
  if (sandboxSupport()[needs]) {
    describe(name, suite);
    return;
  }
  const why =
    needs === 'bwrap'
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
