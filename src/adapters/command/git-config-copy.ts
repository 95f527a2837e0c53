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
    // A repository without a config still gets one (empty): the mount needs a file.
    const path = await this.sanitized(
      commonDir,
      'config',
      async (source) => renderConfig(await readEntries(source)),
      true,
    );
    return path!;
  }

  /**
   * A copy of `<commonDir>/packed-refs` without the stash (a stash packed by `git gc` keeps
   * untracked files such as `.env`), or null when there is no packed-refs file.
   */
  packedRefsFor(commonDir: string): Promise<string | null> {
    return this.sanitized(commonDir, 'packed-refs', async (source) => withoutStash(await readFile(source, 'utf8')));
  }

  /**
   * A rendered copy of one file of the common dir, made again only when the file changes (its
   * mtime, size or inode: git replaces these files by rename); null when the file does not exist,
   * unless `whenMissing` asks for a copy anyway.
   */
  private async sanitized(
    commonDir: string,
    name: string,
    render: (source: string) => Promise<string>,
    whenMissing = false,
  ): Promise<string | null> {
    const source = join(commonDir, name);
    const info = await stat(source).catch(() => null);
    if (!info && !whenMissing) return null;
    const stamp = info ? `${info.mtimeMs}:${info.size}:${info.ino}` : 'missing';
    const key = `${commonDir}\0${name}`;
    const cached = this.cache.get(key);
    if (cached?.stamp === stamp) return cached.path;
    const path = join(this.directory(), `${createHash('sha256').update(commonDir).digest('hex').slice(0, 16)}.${name}`);
    // Written aside and renamed: a command starting meanwhile mounts a whole file, old or new.
    const draft = `${path}.${randomBytes(6).toString('hex')}`;
    await writeFile(draft, info ? await render(source) : '', { mode: 0o644 });
    await rename(draft, path);
    this.cache.set(key, { stamp, path });
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

/** packed-refs without `refs/stash` and its peeled line. */
function withoutStash(text: string): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (/^[0-9a-f]{40,64} refs\/stash$/.test(lines[index]!)) {
      if (lines[index + 1]?.startsWith('^')) index += 1;
      continue;
    }
    kept.push(lines[index]!);
  }
  return kept.join('\n');
}
