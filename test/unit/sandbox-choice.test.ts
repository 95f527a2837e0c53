import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { NamespaceCommandRunner } from '../../src/adapters/command/namespace-runner.js';
import { LimitedCommandRunner } from '../../src/adapters/command/resource-limits.js';
import type { SandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { loadEnv } from '../../src/config/env.js';
import { SandboxError } from '../../src/domain/errors.js';
import { createCommandRunner } from '../../src/main.js';
import { workerPreflight } from '../../src/main-worker.js';

const everything: SandboxSupport = { bwrap: true, bwrapDisablesUserns: true, namespaces: true, mapCurrentUser: true };
const noBwrap: SandboxSupport = { ...everything, bwrap: false, bwrapDisablesUserns: false };
const nothing: SandboxSupport = {
  ...noBwrap,
  namespaces: false,
  mapCurrentUser: false,
  namespaceProblem: 'unshare failed: Operation not permitted',
};
const env = (sandbox: string, extra: Record<string, string> = {}) =>
  loadEnv({ FANOUT_SANDBOX: sandbox, FANOUT_STATE_DIR: '/tmp/fanout-state', ...extra });
const user = { asRoot: false };

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
    const choice = createCommandRunner(env('none'), { support: noBwrap, ...user });
    expect(choice).toMatchObject({ sandbox: 'none' });
    expect(choice.runner).toBeInstanceOf(NamespaceCommandRunner);
    expect(() => createCommandRunner(env('none'), { support: nothing, ...user })).toThrow(
      /unshare failed: Operation not permitted/,
    );
  });

  it("lets the demo's scripted model fall back to none (its commands are Fanout's own), and says so", () => {
    expect(createCommandRunner(env('auto'), { support: noBwrap, trustedCommands: true, ...user }).sandbox).toBe('none');
    const bare = createCommandRunner(env('auto'), { support: nothing, trustedCommands: true, ...user });
    expect(bare).toMatchObject({ sandbox: 'none' });
    // Plain processes, under the same resource limits as every runner.
    expect(bare.runner).toBeInstanceOf(LimitedCommandRunner);
  });

  it('refuses none as root (commands could rewrite system files), says why and what to do, and allows it with FANOUT_ALLOW_ROOT_NONE=1', () => {
    const asRoot = { support: everything, asRoot: true };
    expect(() => createCommandRunner(env('none'), asRoot)).toThrow(SandboxError);
    expect(() => createCommandRunner(env('none'), asRoot)).toThrow(
      /Fanout runs as root.*rewrite system files.*Run Fanout as an unprivileged user.*FANOUT_ALLOW_ROOT_NONE=1/,
    );
    expect(() => createCommandRunner(env('none', { FANOUT_ALLOW_ROOT_NONE: '0' }), asRoot)).toThrow(SandboxError);
    const allowed = createCommandRunner(env('none', { FANOUT_ALLOW_ROOT_NONE: '1' }), asRoot);
    expect(allowed.sandbox).toBe('none-as-root');
    expect(allowed.runner).toBeInstanceOf(NamespaceCommandRunner);
    // bubblewrap as root is fine: it drops every capability.
    expect(createCommandRunner(env('auto'), asRoot).sandbox).toBe('bwrap');
    expect(() => loadEnv({ FANOUT_ALLOW_ROOT_NONE: 'yes' })).toThrow(/FANOUT_ALLOW_ROOT_NONE/);
  });

  // The refusal needs this process to be root (CI runs as root).
  (process.geteuid?.() === 0 ? it : it.skip)(
    'a worker refuses none as root before it takes any job, unless FANOUT_ALLOW_ROOT_NONE=1',
    async () => {
      await expect(workerPreflight(env('none'))).rejects.toThrow(/FANOUT_SANDBOX=none refused: Fanout runs as root/);
      await expect(workerPreflight(env('none', { FANOUT_ALLOW_ROOT_NONE: '1' }))).resolves.toMatch(/git version/);
    },
  );

  it("runs the demo's own commands as root without bubblewrap, and says it was root", () => {
    const demo = createCommandRunner(env('auto'), { support: noBwrap, trustedCommands: true, asRoot: true });
    expect(demo.sandbox).toBe('none-as-root');
  });
});
