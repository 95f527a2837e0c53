import { randomBytes } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { PRIVATE_FILE_MODE } from './json-file.js';

/** Enough for a run's last records (the run and a few dozen subtasks), rewritten once each. */
const RESERVE_BYTES = 1024 * 1024;

/**
 * Room kept on the state directory's disk for the records that end a run when the disk fills:
 * a file of random bytes (zeros would be stored as nothing where the filesystem compresses),
 * given back then, and made again once there is room.
 */
export class DiskReserve {
  constructor(
    private readonly path: string,
    private readonly bytes = RESERVE_BYTES,
  ) {}

  /** Makes the reserve unless it is there; without room, goes on without it. */
  async keep(): Promise<void> {
    const size = await stat(this.path).then(
      (info) => info.size,
      () => 0,
    );
    if (size >= this.bytes) return;
    await writeFile(this.path, randomBytes(this.bytes), { mode: PRIVATE_FILE_MODE }).catch(() =>
      rm(this.path, { force: true }).catch(() => undefined),
    );
  }

  /** Gives the room back, for the records written next. */
  async release(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
