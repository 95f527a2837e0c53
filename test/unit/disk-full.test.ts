import { describe, expect, it } from 'vitest';
import { reportingFullDisk, translateNoSpace } from '../../src/adapters/disk-full.js';
import { DiskFullError } from '../../src/domain/errors.js';
import { failureAdvice } from '../../src/report/render-report.js';

const errno = (code: string, path?: string) =>
  Object.assign(new Error(`${code}: no space left on device, write`), { code, ...(path ? { path } : {}) });

describe('a write that finds no room', () => {
  it('becomes a DiskFullError naming the file (or, for a write to an open file, what was written)', () => {
    expect(translateNoSpace(errno('ENOSPC', '/state/runs/r/run.json.tmp'), 'the state directory')).toMatchObject({
      code: 'disk-full',
      message: 'the disk is full (ENOSPC while writing /state/runs/r/run.json.tmp)',
    });
    expect(translateNoSpace(errno('EDQUOT'), 'the state directory')).toMatchObject({
      message: 'the disk is full (EDQUOT while writing the state directory)',
    });
    const other = errno('EACCES', '/x');
    expect(translateNoSpace(other, 'y')).toBe(other);
  });

  it('is reported so by every async method of an adapter, and nothing else changes', async () => {
    const adapter = {
      name: 'store',
      write: async (full: boolean) => {
        if (full) throw errno('ENOSPC');
        return 'written';
      },
      fails: async () => {
        throw new Error('something else');
      },
      now: () => 42,
    };
    const reporting = reportingFullDisk(adapter, 'the state directory');
    expect(reporting.name).toBe('store');
    expect(reporting.now()).toBe(42);
    expect(await reporting.write(false)).toBe('written');
    await expect(reporting.write(true)).rejects.toBeInstanceOf(DiskFullError);
    await expect(reporting.fails()).rejects.toThrow('something else');
  });

  it('is advised as free space, then a plain resume', () => {
    expect(failureAdvice('r1', ['disk-full'])).toEqual(['The disk filled up: free space, then: fanout resume r1']);
    expect(failureAdvice('r1', ['disk-full', 'looping'])).toContain(
      'Retry the failed subtasks with: fanout resume r1 --retry-failed',
    );
  });
});
