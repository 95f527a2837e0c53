import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { call } from '../support/agent-replies.js';
import { environmentHarness, runOneSubtask, TOKEN, WRITE_NOTES } from '../support/environment-harness.js';
import { describeWithSandbox } from '../support/require-sandbox.js';

describe('prepared environments: registry credentials', () => {
  it("setup gets the user's registry configuration in a HOME of its own, deleted after it; a failure message shows no token", async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - grep -q _authToken ~/.npmrc && echo "registry config present"; cat ~/.npmrc; exit 1\n',
    });
    const worktree = await h.worktree();
    const result = await h.preparer().prepare(worktree);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('registry config present');
    expect(!result.ok && result.message).not.toContain(TOKEN);
    expect(!result.ok && result.message).toContain('[redacted]');
    expect(h.runner.homes).toHaveLength(1);
    expect(await stat(h.runner.homes[0]!).catch(() => null)).toBeNull();
  });
});

describe('prepared environments: registry credentials left behind', () => {
  it('a setup that leaves the token in what it writes fails, and neither the worktree nor the cache keeps it', async () => {
    const h = await environmentHarness({
      config: 'setup:\n  - mkdir -p node_modules/.cache && cp ~/.npmrc node_modules/.cache/npmrc-copy\n',
    });
    const worktree = await h.worktree();
    const result = await h.preparer().prepare(worktree);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(
      'Setup left your registry credentials in node_modules/.cache/npmrc-copy',
    );
    expect(await lstat(join(worktree.path, 'node_modules')).catch(() => null)).toBeNull();
    expect((await readdir(h.cacheDir)).filter((name) => !name.endsWith('.lock'))).toEqual([]);
  });
});

describeWithSandbox('prepared environments: registry credentials in the sandbox', 'bwrap', () => {
  it("an agent command finds the user's registry token nowhere: not in its HOME, /tmp, the worktree, or the user's home", async () => {
    const sandbox = new BwrapCommandRunner(new ProcessCommandRunner(), {
      hiddenPaths: [],
      toolPaths: [],
      canDisableUserns: sandboxSupport().bwrapDisablesUserns,
    });
    const h = await environmentHarness({
      runner: sandbox,
      config: 'setup:\n  - grep -q npm_fakeRegistryToken ~/.npmrc && echo yes > .env.setup-saw-token\n',
    });
    const probe = `cat ~/.npmrc; grep -rl npm_fakeRegistryToken "$HOME" /tmp . 2>/dev/null; ls -a ${h.userHome}; echo probe-done`;
    const { outcome, server } = await runOneSubtask(
      h,
      [call('run_command', { command: probe }), ...WRITE_NOTES],
      (worktree) => h.preparer().prepare(worktree),
    );
    expect(outcome.kind).toBe('succeeded');
    const toolOutputs = server.requests.flatMap((request) =>
      request.body.messages.filter((message) => message.role === 'tool').map((message) => message.content ?? ''),
    );
    expect(toolOutputs.join('\n')).toContain('probe-done');
    expect(toolOutputs.join('\n')).not.toContain(TOKEN);
    expect(toolOutputs.join('\n')).not.toContain('npm_fakeRegistryToken');
    // Setup did read it, in its own HOME, which is gone.
    expect(h.runner.homes.length).toBeGreaterThanOrEqual(2);
    expect(await stat(h.runner.homes[0]!).catch(() => null)).toBeNull();
  });
});
