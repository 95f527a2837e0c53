import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolError } from './tool-context.js';

// O_NOFOLLOW: a link swapped in after the path check makes the open fail instead of following it.
// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer or reader.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CHUNK_BYTES = 64 * 1024;

/** What kind of file `stats` describes, in words for the model. */
export function describeKind(stats: Stats): string {
  if (stats.isFile()) return 'regular file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symbolic link';
  if (stats.isFIFO()) return 'FIFO';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'special file';
}

/** Refuses anything but a regular file: reading a FIFO or a device can block or never end. */
export function assertRegularFile(stats: Stats, shownPath: string): void {
  if (stats.isFile()) return;
  throw new ToolError(
    `"${shownPath}" is a ${describeKind(stats)}, not a regular file; only regular files can be read or written`,
  );
}

/** Stops a tool whose time is up (the agent loop aborts the signal). */
export function assertNotAborted(signal: AbortSignal | undefined, action: string): void {
  if (signal?.aborted) throw new ToolError(`${action} stopped: the time for this tool call is up`);
}

/** Opens a regular file for reading, never through a final link and never blocking on a FIFO. */
export async function openForRead(absolute: string, shownPath: string): Promise<{ handle: FileHandle; stats: Stats }> {
  const handle = await open(absolute, READ_FLAGS).catch((error: NodeJS.ErrnoException) =>
    rethrowOpenError(error, shownPath),
  );
  return checkOpened(handle, shownPath);
}

/**
 * Reads at most `maxBytes` through the handle, checking the signal between chunks; `complete` is
 * false when the file holds more than that.
 */
export async function readBounded(
  handle: FileHandle,
  maxBytes: number,
  signal: AbortSignal | undefined,
  action: string,
): Promise<{ buffer: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    assertNotAborted(signal, action);
    // One byte past the limit tells a file of exactly maxBytes from a longer one.
    const want = Math.min(CHUNK_BYTES, maxBytes + 1 - total);
    const chunk = Buffer.allocUnsafe(want);
    const { bytesRead } = await handle.read(chunk, 0, want, null);
    if (bytesRead === 0) return { buffer: Buffer.concat(chunks, total), complete: true };
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) return { buffer: Buffer.concat(chunks, total).subarray(0, maxBytes), complete: false };
  }
}

/** Reads a regular file, bounded (see readBounded), closing it whatever happens. */
export async function readRegularFile(
  absolute: string,
  shownPath: string,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<{ buffer: Buffer; complete: boolean; size: number }> {
  const { handle, stats } = await openForRead(absolute, shownPath);
  try {
    const read = await readBounded(handle, maxBytes, signal, `reading "${shownPath}"`);
    return { ...read, size: stats.size };
  } finally {
    await handle.close();
  }
}

/**
 * Creates or replaces a regular file at a path already resolved inside `root`: missing directories
 * are made one at a time and checked to be real directories, and the file is opened without
 * following a final link. A file with other hard links is refused: writing it would change a file
 * elsewhere, possibly outside the worktree.
 */
export async function writeRegularFile(
  root: string,
  relativePath: string,
  content: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const segments = relativePath.split('/');
  for (let depth = 1; depth < segments.length; depth += 1) {
    const directory = join(root, ...segments.slice(0, depth));
    await mkdir(directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const info = await lstat(directory);
    if (!info.isDirectory())
      throw new ToolError(`"${segments.slice(0, depth).join('/')}" is a ${describeKind(info)}, not a directory`);
  }
  assertNotAborted(signal, `writing "${relativePath}"`);
  const opened = await open(join(root, ...segments), WRITE_FLAGS, 0o666).catch((error: NodeJS.ErrnoException) =>
    rethrowOpenError(error, relativePath),
  );
  const { handle, stats } = await checkOpened(opened, relativePath);
  try {
    if (stats.nlink > 1) {
      throw new ToolError(
        `"${relativePath}" has ${stats.nlink} hard links; writing it would also change the other names, so it is refused`,
      );
    }
    await handle.truncate(0);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

async function checkOpened(handle: FileHandle, shownPath: string): Promise<{ handle: FileHandle; stats: Stats }> {
  try {
    const stats = await handle.stat();
    assertRegularFile(stats, shownPath);
    return { handle, stats };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function rethrowOpenError(error: NodeJS.ErrnoException, shownPath: string): never {
  if (error.code === 'ELOOP')
    throw new ToolError(`"${shownPath}" is a symbolic link (it changed while it was checked); refused`);
  // A FIFO without a peer (O_NONBLOCK write) or a socket cannot be opened as a file.
  if (error.code === 'ENXIO')
    throw new ToolError(`"${shownPath}" is not a regular file; only regular files can be read or written`);
  throw error;
}
