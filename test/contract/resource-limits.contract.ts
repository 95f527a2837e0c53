import { readdir, stat } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { ResourceLimits } from '../../src/domain/resource-limits.js';
import type { CommandRequest, CommandRunner } from '../../src/ports/command-runner.js';
import { FORK_BOMB } from '../support/fork-bomb.js';
import { itWithCgroups } from '../support/require-cgroups.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;
// Small, so each case is over in a moment.
const LIMITS: ResourceLimits = { processes: 64, memory: 200 * MiB, fileSize: 8 * MiB, disk: 32 * MiB };

async function request(line: string, extra: Partial<CommandRequest> = {}): Promise<CommandRequest> {
  return {
    argv: ['bash', '-c', line],
    cwd: await tempDir(),
    timeoutMs: 30_000,
    outputLimit: 2_000,
    limits: LIMITS,
    ...extra,
  };
}

/** What every runner Fanout composes must bound: processes, memory, file size and disk, each named when hit. */
export function limitsContract(name: string, makeRunner: () => CommandRunner): void {
  describe(`CommandRunner limits: ${name}`, () => {
    itWithCgroups(
      'stops a fork bomb at the process limit, and says so (a command within its limits runs untouched)',
      async () => {
        const runner = makeRunner();
        const within = await runner.run(
          await request('for i in $(seq 20); do sleep 0.05 & done; wait; head -c 50M /dev/zero | tail -c 1 | wc -c'),
        );
        expect(within).toMatchObject({ exitCode: 0, stdout: '1\n' });
        expect(within.limitExceeded).toBeUndefined();
        const result = await runner.run(await request(FORK_BOMB));
        expect(result.limitExceeded).toBe('processes');
        expect(result.timedOut).toBe(false);
        expect(result.durationMs).toBeLessThan(20_000);
      },
    );

    itWithCgroups('stops a memory hog at the memory limit, and says so', async () => {
      // `tail` keeps the one line (400 MiB of zeros, no newline) in memory: bounded, should the limit fail.
      const result = await makeRunner().run(await request('head -c 400M /dev/zero | tail'));
      expect(result.limitExceeded).toBe('memory');
      expect(result.exitCode).not.toBe(0);
      expect(result.durationMs).toBeLessThan(20_000);
    });

    it('stops a write at the file size limit, and says so', async () => {
      const req = await request('head -c 20M /dev/zero > big.bin');
      const result = await makeRunner().run(req);
      expect(result.limitExceeded).toBe('file-size');
      expect((await stat(`${req.cwd}/big.bin`)).size).toBe(LIMITS.fileSize);
    });

    it('stops a command that fills its worktree past the disk quota, long before it is done', async () => {
      const req = await request('for i in $(seq 1 100); do head -c 4M /dev/zero > fill-$i.bin; done; echo done');
      const result = await makeRunner().run(req);
      expect(result.limitExceeded).toBe('disk');
      expect(result.stdout).not.toContain('done');
      expect((await readdir(req.cwd)).length).toBeLessThan(100);
    });

    it('counts the disk quota over every command of a worktree and HOME, not each one alone', async () => {
      const runner = makeRunner();
      const home = await tempDir('fanout-home-');
      // 30 MiB each, under the 32 MiB quota alone; 60 MiB together.
      const first = await request('for i in 1 2 3 4 5; do head -c 6M /dev/zero > part-$i.bin; done', {
        env: { HOME: home },
      });
      expect((await runner.run(first)).limitExceeded).toBeUndefined();
      const second = await runner.run({
        ...first,
        argv: ['bash', '-c', 'for i in 1 2 3 4 5; do head -c 6M /dev/zero > "$HOME/part-$i.bin"; done'],
      });
      expect(second.limitExceeded).toBe('disk');
    });
  });
}
