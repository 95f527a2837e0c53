import { describe, expect, it } from 'vitest';
import { outlineRepository } from '../../src/domain/repo-outline.js';

describe('outlineRepository', () => {
  it('lists every file of a small repository', () => {
    expect(outlineRepository(['README.md', 'src/a.ts'], 1_000)).toBe('README.md\nsrc/a.ts');
  });

  it('summarizes a large repository by directory, shallow first, within the budget', () => {
    const files = Array.from({ length: 5_000 }, (_, n) => `packages/p${n % 50}/src/file${n}.ts`).concat(['package.json', 'README.md']);
    const outline = outlineRepository(files, 2_000);
    expect(outline.length).toBeLessThanOrEqual(2_000);
    const lines = outline.split('\n');
    expect(lines[0]).toBe('5002 files in 51 directories (directory: count, sample names)');
    expect(lines[1]).toBe('./ (2): package.json, README.md');
    expect(lines[2]).toMatch(/^packages\/p0\/src\/ \(100\): file0\.ts, file50\.ts, .*, …$/);
    expect(lines.at(-1)).toMatch(/^… \d+ more directories not shown$/);
  });
});
