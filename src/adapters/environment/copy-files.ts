import { createHash } from 'node:crypto';
import { constants, lstat, open } from 'node:fs/promises';
import { join } from 'node:path';
import { parentsAreDirectories } from './file-tree.js';
import type { PreparationGit } from './preparation-git.js';

/** An ignored file of the user's checkout, read for copying into worktrees. */
export interface CopiedFile {
  path: string;
  content: Buffer;
  mode: number;
  sha256: string;
}

export type CopyCollection = { ok: true; files: CopiedFile[] } | { ok: false; message: string };

const MAX_FILES = 1_000;
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

/**
 * Reads the ignored files of the user's checkout that `copy:` names (git glob pathspecs). Only
 * regular files, never through a link, never inside `.git`; config validation already refused
 * absolute paths and `..`.
 */
export async function collectCopies(
  git: PreparationGit,
  repoDir: string,
  globs: readonly string[],
): Promise<CopyCollection> {
  if (globs.length === 0) return { ok: true, files: [] };
  const paths = (await git.ignoredFiles(repoDir, globs)).filter(
    (path) => !path.split('/').some((part) => part.toLowerCase() === '.git'),
  );
  if (paths.length > MAX_FILES)
    return {
      ok: false,
      message: `\`copy:\` in .github/fanout.yml names ${paths.length} files (at most ${MAX_FILES}); name fewer`,
    };
  const files: CopiedFile[] = [];
  let total = 0;
  for (const path of paths.sort()) {
    const content = await readRegularFile(join(repoDir, path));
    if (!content) continue;
    total += content.data.length;
    if (total > MAX_TOTAL_BYTES)
      return {
        ok: false,
        message: `\`copy:\` in .github/fanout.yml names more than ${MAX_TOTAL_BYTES / 1024 / 1024} MiB of files; name fewer`,
      };
    files.push({
      path,
      content: content.data,
      mode: content.mode,
      sha256: createHash('sha256').update(content.data).digest('hex'),
    });
  }
  return { ok: true, files };
}

/**
 * Writes the files into the worktree. A path git already put there (tracked) is left alone; a
 * path behind a link or a file is refused (the message names it).
 */
export async function writeCopies(
  worktree: string,
  files: readonly CopiedFile[],
): Promise<{ ok: true } | { ok: false; message: string }> {
  for (const file of files) {
    if (!(await parentsAreDirectories(worktree, file.path, { create: true }))) {
      return {
        ok: false,
        message: `\`copy:\` cannot write ${file.path}: a link or file of the repository is in its way`,
      };
    }
    const handle = await open(
      join(worktree, file.path),
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      file.mode,
    ).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') return null;
      throw error;
    });
    if (!handle) continue;
    try {
      await handle.writeFile(file.content);
    } finally {
      await handle.close();
    }
  }
  return { ok: true };
}

async function readRegularFile(path: string): Promise<{ data: Buffer; mode: number } | null> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isFile()) return null;
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    return { data: await handle.readFile(), mode: info.mode & 0o777 };
  } finally {
    await handle.close();
  }
}
