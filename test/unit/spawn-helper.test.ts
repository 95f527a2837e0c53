import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SpawnHelper } from '../../src/adapters/process/spawn-helper.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Resolves once `pid` no longer exists (polled: a process has no exit event for non-parents). */
async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SpawnHelper', () => {
  it('runs a program in its directory with exactly the environment given, and returns its output and exit code', async () => {
    const helper = new SpawnHelper();
    const dir = await tempDir();
    const result = await helper.run({
      file: '/bin/sh',
      args: ['-c', 'pwd; echo "secret=${SECRET-unset} mine=$MINE"; echo oops >&2; exit 3'],
      cwd: dir,
      env: { ...ENV, MINE: 'yes' },
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ exitCode: 3, timedOut: false, stderr: 'oops\n' });
    expect(result.stdout).toBe(`${dir}\nsecret=unset mine=yes\n`);
  });

  it('feeds input on stdin and keeps NUL-separated output intact', async () => {
    const helper = new SpawnHelper();
    const result = await helper.run({
      file: '/bin/sh',
      args: ['-c', "tr '\\n' '\\0'"],
      cwd: '/',
      env: ENV,
      input: 'a\nb\n',
      timeoutMs: 10_000,
    });
    expect(result.stdout).toBe('a\0b\0');
  });

  it('kills a program that runs past its timeout', async () => {
    const helper = new SpawnHelper();
    const result = await helper.run({ file: '/bin/sleep', args: ['30'], cwd: '/', env: ENV, timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
  });

  it('reports a program that cannot start', async () => {
    const helper = new SpawnHelper();
    const result = await helper.run({ file: '/nonexistent/program', args: [], cwd: '/', env: ENV, timeoutMs: 10_000 });
    expect(result.exitCode).toBeNull();
    expect(result.error).toMatch(/ENOENT/);
  });

  it('survives Ctrl-C sent to it, and starts again after being killed', async () => {
    const helper = new SpawnHelper();
    const echo = () => helper.run({ file: '/bin/echo', args: ['hi'], cwd: '/', env: ENV, timeoutMs: 10_000 });
    await echo();
    const first = helper.pid!;
    process.kill(first, 'SIGINT');
    expect((await echo()).stdout).toBe('hi\n');
    expect(helper.pid).toBe(first);

    const pending = helper.run({ file: '/bin/sleep', args: ['30'], cwd: '/', env: ENV, timeoutMs: 60_000 });
    process.kill(first, 'SIGKILL');
    await expect(pending).rejects.toThrow(/helper exited/);
    await gone(first);
    expect((await echo()).stdout).toBe('hi\n');
    expect(helper.pid).not.toBe(first);
  });

  it('answers a request spawn refuses at once (a NUL byte) without failing the others in flight', async () => {
    const helper = new SpawnHelper();
    const slow = helper.run({
      file: '/bin/sh',
      args: ['-c', 'sleep 0.3; echo slow'],
      cwd: '/',
      env: ENV,
      timeoutMs: 10_000,
    });
    const refused = await helper.run({ file: '/bin/echo', args: ['a\0b'], cwd: '/', env: ENV, timeoutMs: 10_000 });
    expect(refused.exitCode).toBeNull();
    expect(refused.error).toBeTruthy();
    expect((await slow).stdout).toBe('slow\n');
  });

  it('stops what it started when the process that uses it ends', async () => {
    const dir = await tempDir();
    const script = join(dir, 'leave.mts');
    const module = new URL('../../src/adapters/process/spawn-helper.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { SpawnHelper } from ${JSON.stringify(module)};
const helper = new SpawnHelper();
void helper.run({ file: '/bin/sh', args: ['-c', 'echo $$ > pid; exec sleep 30'], cwd: ${JSON.stringify(dir)}, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 60_000 });
const wait = () => new Promise((resolve) => setTimeout(resolve, 20));
const { existsSync } = await import('node:fs');
while (!existsSync(${JSON.stringify(join(dir, 'pid'))})) await wait();
process.exit(0);
`,
    );
    await exec(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 });
    const { readFile } = await import('node:fs/promises');
    const pid = Number((await readFile(join(dir, 'pid'), 'utf8')).trim());
    await gone(pid);
  });

  it('does not keep the process that uses it alive, and ends with it', async () => {
    const dir = await tempDir();
    const script = join(dir, 'use-helper.mts');
    const module = new URL('../../src/adapters/process/spawn-helper.ts', import.meta.url).pathname;
    await writeFile(
      script,
      `import { SpawnHelper } from ${JSON.stringify(module)};
const helper = new SpawnHelper();
const result = await helper.run({ file: '/bin/echo', args: ['done'], cwd: '/', env: { PATH: '/usr/bin:/bin' }, timeoutMs: 10_000 });
console.log(result.stdout.trim(), helper.pid);
`,
    );
    // The script ends by itself (no timer, no exit call): the helper must not hold it open.
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', script], { timeout: 20_000 });
    const [word, pid] = stdout.trim().split(' ');
    expect(word).toBe('done');
    await gone(Number(pid));
  });
});
