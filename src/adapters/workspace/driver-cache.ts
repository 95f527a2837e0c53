import { lstat, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';

/** Where one git command reads repository config from, as far as Fanout can tell without asking git. */
export interface ConfigLocation {
  cwd: string;
  gitDir?: string;
  commonDir?: string;
  globalConfig?: string;
}

interface Entry {
  stamp: string;
  names: string[];
}

// Bounded: one entry per repository and worktree slot; more than this means nothing repeats.
const MAX_ENTRIES = 512;

/**
 * Remembers the driver names a repository's config defines, for as long as none of the files git
 * would read for them changes. Listing them costs a git process before every command that can run
 * a driver; the files' identities (device, inode, size, change times) cost a few `stat` calls.
 * Nothing is remembered when git could read a file Fanout cannot name: a config with any
 * `include`/`includeIf` (its targets and conditions are git's to resolve), or a repository found
 * through a `.git` file or a parent directory instead of a given git dir or a `.git` directory.
 */
export class DriverNameCache {
  private readonly entries = new Map<string, Entry>();

  /** The cached names, or `list()`'s answer (remembered when the config files allow it). */
  async names(location: ConfigLocation, list: () => Promise<string[]>): Promise<string[]> {
    const files = await configFiles(location);
    if (!files) return list();
    const key = JSON.stringify(location);
    // A `.git` directory found in cwd is named by its identity only: its times move with every index write.
    const stamp = `${await stampOf(files)}|${location.gitDir ? '' : await identityOf(join(location.cwd, '.git'))}`;
    const cached = this.entries.get(key);
    if (cached && cached.stamp === stamp) return cached.names;
    const names = await list();
    // Stamped before listing: a file changed meanwhile does not match next time.
    if (!(await mentionsInclude(files))) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, { stamp, names });
    }
    return names;
  }
}

/** The config files git reads for this location (some may not exist), or null when Fanout cannot know them. */
async function configFiles(location: ConfigLocation): Promise<string[] | null> {
  let gitDir = location.gitDir ? resolve(location.cwd, location.gitDir) : null;
  const files: string[] = [];
  if (!gitDir) {
    const dotGit = join(location.cwd, '.git');
    const info = await lstat(dotGit).catch(() => null);
    if (!info?.isDirectory()) return null;
    gitDir = dotGit;
  }
  const commonDir = location.commonDir
    ? resolve(location.cwd, location.commonDir)
    : await commonDirOf(gitDir).catch(() => null);
  if (!commonDir) return null;
  files.push(join(gitDir, 'commondir'), join(commonDir, 'config'), join(gitDir, 'config.worktree'));
  if (location.globalConfig && location.globalConfig !== '/dev/null') files.push(location.globalConfig);
  return files;
}

async function commonDirOf(gitDir: string): Promise<string> {
  const pointer = await readFile(join(gitDir, 'commondir'), 'utf8').catch(() => null);
  if (pointer === null) return gitDir;
  const target = pointer.trim();
  return isAbsolute(target) ? target : resolve(gitDir, target);
}

async function stampOf(files: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file, { bigint: true }).catch(() => null);
      return info ? `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}` : '-';
    }),
  );
  return parts.join('|');
}

async function identityOf(path: string): Promise<string> {
  const info = await lstat(path, { bigint: true }).catch(() => null);
  return info ? `${info.dev}:${info.ino}` : '-';
}

async function mentionsInclude(files: readonly string[]): Promise<boolean> {
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/include/i.test(text)) return true;
  }
  return false;
}
