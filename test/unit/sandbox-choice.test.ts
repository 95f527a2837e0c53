import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { NamespaceCommandRunner } from '../../src/adapters/command/namespace-runner.js';
import { LimitedCommandRunner } from '../../src/adapters/command/resource-limits.js';
import type { SandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { loadEnv } from '../../src/config/env.js';
import { SandboxError } from '../../src/domain/errors.js';
import { createCommandRunner } from '../../src/main.js';

const everything: SandboxSupport = { bwrap: true, bwrapDisablesUserns: true, namespaces: true, mapCurrentUser: true };
const noBwrap: SandboxSupport = { ...everything, bwrap: false, bwrapDisablesUserns: false };
const nothing: SandboxSupport = {
  ...noBwrap,
  namespaces: false,
  mapCurrentUser: false,
  namespaceProblem: 'unshare failed: Operation not permitted',
};
const env = (sandbox: string) => loadEnv({ FANOUT_SANDBOX: sandbox, FANOUT_STATE_DIR: '/tmp/fanout-state' });

describe('choosing where agent commands run', () => {
  it('uses bubblewrap when it works, under auto and bwrap', () => {
    for (const mode of ['auto', 'bwrap']) {
      const choice = createCommandRunner(env(mode), { support: everything });
      expect(choice.sandbox).toBe('bwrap');
      expect(choice.runner).toBeInstanceOf(BwrapCommandRunner);
    }
  });

  it('refuses to start agents under auto without bubblewrap, and says how to go on', () => {
    expect(() => createCommandRunner(env('auto'), { support: noBwrap })).toThrow(SandboxError);
    expect(() => createCommandRunner(env('auto'), { support: noBwrap })).toThrow(
      /Install it \(apt-get install bubblewrap\), or set FANOUT_SANDBOX=none/,
    );
    expect(() => createCommandRunner(env('bwrap'), { support: noBwrap })).toThrow(
      /FANOUT_SANDBOX=bwrap, but bubblewrap is not installed/,
    );
  });

  it('runs none in namespaces, and refuses none where the machine cannot isolate processes', () => {
    const choice = createCommandRunner(env('none'), { support: noBwrap });
    expect(choice).toMatchObject({ sandbox: 'none' });
    expect(choice.runner).toBeInstanceOf(NamespaceCommandRunner);
    expect(() => createCommandRunner(env('none'), { support: nothing })).toThrow(
      /unshare failed: Operation not permitted/,
    );
  });

  it("lets the demo's scripted model fall back to none (its commands are Fanout's own), and says so", () => {
    expect(createCommandRunner(env('auto'), { support: noBwrap, trustedCommands: true }).sandbox).toBe('none');
    const bare = createCommandRunner(env('auto'), { support: nothing, trustedCommands: true });
    expect(bare).toMatchObject({ sandbox: 'none' });
    // Plain processes, under the same resource limits as every runner.
    expect(bare.runner).toBeInstanceOf(LimitedCommandRunner);
  });
});
