import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchPaths } from '../../src/agent/codex/patch-paths.js';
import { reviewCodexToolUse } from '../../src/agent/codex/review-patch.js';
import { protectedPaths } from '../../src/domain/protected-paths.js';
import { createWriteMatcher } from '../../src/domain/scope.js';
import type { AgentRequest } from '../../src/ports/agent-backend.js';
import { SHOUT_SUBTASK } from '../support/agent-harness.js';
import { tempDir } from '../support/temp-dir.js';

const patch = (...lines: string[]) => ['*** Begin Patch', ...lines, '*** End Patch', ''].join('\n');

/** What the review reads of a request: the worktree, the scope, the protected paths. */
async function request(writeScope = ['src/**']): Promise<AgentRequest> {
  const worktree = await tempDir('fanout-codex-review-');
  await mkdir(join(worktree, 'src'));
  const paths = protectedPaths();
  return {
    subtask: { ...SHOUT_SUBTASK, writeScope },
    worktree: { path: worktree },
    canWrite: createWriteMatcher(writeScope, paths),
    protectedPaths: paths,
  } as unknown as AgentRequest;
}

const review = (input: Record<string, unknown>, on: AgentRequest, tool = 'apply_patch') =>
  reviewCodexToolUse({ tool, input }, on);

describe("the codex backend's answer to its PreToolUse hook", () => {
  it('reads every path a patch adds, updates, deletes or moves to', () => {
    expect(
      patchPaths(
        patch(
          '*** Add File: src/new.js',
          '+x',
          '*** Update File: src/a.js',
          '*** Move to: lib/a.js',
          '@@',
          '-*** Add File: not/a/header.js',
          '+y',
          '*** Delete File: old.js',
        ),
      ),
    ).toEqual(['src/new.js', 'src/a.js', 'lib/a.js', 'old.js']);
  });

  it('lets an in-scope patch and any shell command run', async () => {
    const on = await request();
    expect(
      await review({ command: patch('*** Add File: src/new.js', '+x', '*** Update File: src/a.js') }, on),
    ).toBeNull();
    expect(await review({ command: 'echo x > README.md' }, on, 'Bash')).toBeNull();
  });

  it('refuses a patch that writes outside the scope, moves a file out of it, or touches a protected path, naming each and the scope', async () => {
    const on = await request();
    const reason = await review(
      {
        command: patch(
          '*** Update File: src/a.js',
          '*** Move to: lib/a.js',
          '*** Delete File: README.md',
          '*** Add File: .github/workflows/ci.yml',
        ),
      },
      on,
    );
    expect(reason).toContain('Fanout refused this patch');
    expect(reason).toContain(`"lib/a.js" is outside this subtask's write scope`);
    expect(reason).toContain(`"README.md" is outside this subtask's write scope`);
    expect(reason).toContain(`".github/workflows/ci.yml" is protected`);
    expect(reason).not.toContain('"src/a.js"');
    expect(reason).toContain('(allowed: src/**)');
  });

  it('judges a path where it lands: outside the worktree, or through an in-scope link that leads out of scope', async () => {
    const on = await request();
    await symlink('../docs', join(on.worktree.path, 'src', 'docs'));
    await mkdir(join(on.worktree.path, 'docs'));
    expect(await review({ command: patch('*** Add File: ../escape.js') }, on)).toContain(
      '"../escape.js" is outside the repository',
    );
    expect(await review({ command: patch('*** Add File: /etc/passwd') }, on)).toContain('outside the repository');
    expect(await review({ command: patch('*** Add File: src/docs/new.md') }, on)).toContain(
      `"src/docs/new.md" leads (through a symbolic link) to "docs/new.md", which is outside this subtask's write scope`,
    );
    expect(await review({ command: patch(`*** Add File: ${join(on.worktree.path, 'src/x.js')}`) }, on)).toBeNull();
  });
});
