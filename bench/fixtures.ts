import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const GIT_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@b',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@b',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gc.auto',
  GIT_CONFIG_VALUE_0: '0',
};

/** Runs git for benchmark set-up (plain, not Fanout's hardened runner). */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A repository with `count` small files in 100 directories, one commit. */
export async function largeRepository(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let d = 0; d < 100; d += 1) {
    await mkdir(join(dir, `src/module${d}`), { recursive: true });
    await Promise.all(
      Array.from({ length: count / 100 }, (_, f) =>
        writeFile(join(dir, `src/module${d}/file${f}.ts`), `export const value${f} = ${d * 1000 + f};\n`),
      ),
    );
  }
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'init');
}
