import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// What git needs to read a repository. Everything else (remotes that may carry tokens, hooksPath,
// filters, includes, user identity) stays out of the sandbox.
const KEPT_KEY =
  /^(core\.(repositoryformatversion|bare|filemode|symlinks|ignorecase|precomposeunicode|logallrefupdates|autocrlf|eol)|extensions\.[a-z0-9-]+)$/;

/**
 * Sanitized copies of repositories' shared git config, mounted read-only over the real one inside
 * the sandbox: git works, and an agent neither reads secrets from it nor changes it.
 */
export class GitConfigCopies {
  private readonly cache = new Map<string, { stamp: string; path: string }>();
  private dir: string | undefined;

  /** The path of a sanitized copy of `<commonDir>/config`, refreshed when the original changes. */
  async copyFor(commonDir: string): Promise<string> {
    const source = join(commonDir, 'config');
    const info = await stat(source).catch(() => null);
    const stamp = info ? `${info.mtimeMs}:${info.size}` : 'missing';
    const cached = this.cache.get(commonDir);
    if (cached?.stamp === stamp) return cached.path;
    const path = join(this.directory(), `${createHash('sha256').update(commonDir).digest('hex').slice(0, 16)}.config`);
    // Written aside and renamed, as packed-refs is: never half a file under a starting command.
    const draft = `${path}.${randomBytes(6).toString('hex')}`;
    await writeFile(draft, info ? renderConfig(await readEntries(source)) : '', { mode: 0o644 });
    await rename(draft, path);
    this.cache.set(commonDir, { stamp, path });
    return path;
  }

  /**
   * A copy of `<commonDir>/packed-refs` without the stash (a stash packed by `git gc` keeps
   * untracked files such as `.env`), or null when there is no packed-refs file.
   */
  async packedRefsFor(commonDir: string): Promise<string | null> {
    const source = join(commonDir, 'packed-refs');
    const text = await readFile(source, 'utf8').catch(() => null);
    if (text === null) return null;
    const lines = text.split('\n');
    const kept: string[] = [];
    for (let index = 0; index < lines.length; index += 1) {
      const line = lines[index]!;
      if (/^[0-9a-f]{40,64} refs\/stash$/.test(line)) {
        // Its peeled line, if any, goes with it.
        if (lines[index + 1]?.startsWith('^')) index += 1;
        continue;
      }
      kept.push(line);
    }
    const path = join(
      this.directory(),
      `${createHash('sha256').update(commonDir).digest('hex').slice(0, 16)}.packed-refs`,
    );
    // Written aside and renamed: a command starting meanwhile mounts a whole file, old or new.
    const draft = `${path}.${randomBytes(6).toString('hex')}`;
    await writeFile(draft, kept.join('\n'), { mode: 0o644 });
    await rename(draft, path);
    return path;
  }

  private directory(): string {
    if (!this.dir) {
      // A fresh, private directory: a predictable name could be made by someone else first.
      const dir = mkdtempSync(join(tmpdir(), 'fanout-gitconfig-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      this.dir = dir;
    }
    return this.dir;
  }
}

async function readEntries(file: string): Promise<Array<[string, string]>> {
  // --file reads that file alone: no includes, no system or global config.
  const { stdout } = await run('git', ['config', '--file', file, '--null', '--list'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    maxBuffer: 4 * 1024 * 1024,
  });
  return stdout
    .split('\0')
    .filter(Boolean)
    .map((entry): [string, string] => {
      const newline = entry.indexOf('\n');
      return newline === -1 ? [entry, 'true'] : [entry.slice(0, newline), entry.slice(newline + 1)];
    })
    .filter(([key]) => KEPT_KEY.test(key.toLowerCase()));
}

/** Git config text for `section.key` entries (only two-level keys are kept). */
export function renderConfig(entries: ReadonlyArray<readonly [string, string]>): string {
  const sections = new Map<string, string[]>();
  for (const [key, value] of entries) {
    const dot = key.indexOf('.');
    const section = key.slice(0, dot);
    const lines = sections.get(section) ?? [];
    lines.push(`\t${key.slice(dot + 1)} = "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
    sections.set(section, lines);
  }
  return [...sections].map(([section, lines]) => `[${section}]\n${lines.join('\n')}\n`).join('');
}
