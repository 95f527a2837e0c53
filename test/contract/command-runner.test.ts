import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BwrapCommandRunner, bwrapAvailable } from '../../src/adapters/command/bwrap-runner.js';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { tempDir } from '../support/temp-dir.js';
import { commandRunnerContract } from './command-runner.contract.js';

commandRunnerContract('plain processes', () => new ProcessCommandRunner());

// CI installs bubblewrap (.ci/run); on a machine without it this suite says so rather than passing.
const sandbox = bwrapAvailable();
describe.runIf(sandbox)('bubblewrap sandbox', () => {
  commandRunnerContract('bubblewrap', () => new BwrapCommandRunner(new ProcessCommandRunner(), { hiddenPaths: [] }));

  it('lets a command write only inside its worktree and hides chosen host paths', async () => {
    const root = await tempDir('fanout-bwrap-');
    const worktree = join(root, 'worktree');
    const secrets = join(root, 'secrets');
    await mkdir(worktree);
    await mkdir(secrets);
    await writeFile(join(root, 'shared-config'), 'original\n');
    await writeFile(join(secrets, 'key.pem'), 'private');
    const runner = new BwrapCommandRunner(new ProcessCommandRunner(), { hiddenPaths: [secrets] });
    const result = await runner.run({
      argv: ['bash', '-c', `echo inside > ok.txt; echo tampered >> ${root}/shared-config; echo tampered >> /etc/hostname; echo "etc:$?"; cat ${secrets}/key.pem; echo "read:$?"`],
      cwd: worktree,
      timeoutMs: 10_000,
      outputLimit: 10_000,
    });
    expect(await readFile(join(worktree, 'ok.txt'), 'utf8')).toBe('inside\n');
    expect(await readFile(join(root, 'shared-config'), 'utf8')).toBe('original\n');
    // Outside the worktree, writes land in the sandbox's private /tmp or fail on the read-only root.
    expect(result.stdout).toContain('etc:1');
    expect(result.stdout).toContain('read:1');
    expect(result.stdout).not.toContain('private');
  });
});
describe.runIf(sandbox)('bubblewrap sandbox inside a hidden state directory', () => {
  it('works in a worktree that lives inside a hidden directory, which stays hidden around it', async () => {
    const state = await tempDir('fanout-state-');
    const worktree = join(state, 'worktrees', 'run', 'a-1');
    await mkdir(worktree, { recursive: true });
    await writeFile(join(state, 'probe-cache.json'), 'cached');
    const runner = new BwrapCommandRunner(new ProcessCommandRunner(), { hiddenPaths: [state] });
    const result = await runner.run({ argv: ['bash', '-c', `echo hi > out.txt && pwd && ls ${state}`], cwd: worktree, timeoutMs: 10_000, outputLimit: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(worktree);
    expect(result.stdout).not.toContain('probe-cache.json');
    expect(await readFile(join(worktree, 'out.txt'), 'utf8')).toBe('hi\n');
  });
});
describe.runIf(!sandbox)('bubblewrap sandbox', () => {
  it.skip('needs bwrap (apt-get install bubblewrap); .ci/run installs it', () => undefined);
});
