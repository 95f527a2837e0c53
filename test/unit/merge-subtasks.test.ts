import { describe, expect, it } from 'vitest';
import type { Subtask } from '../../src/domain/plan.js';
import { capSubtaskCount, mergeSubtaskGroups, orderByDependencies } from '../../src/plan/merge-subtasks.js';

const subtask = (id: string, writeScope: string[], dependsOn: string[] = []): Subtask => ({
  id,
  title: `Title ${id}`,
  instructions: `Do ${id}`,
  writeScope,
  readScope: [`${id}.md`],
  dependsOn,
});

describe('mergeSubtaskGroups', () => {
  it('merges connected subtasks into the first one and rewires dependencies', () => {
    const merged = mergeSubtaskGroups(
      [subtask('a', ['x']), subtask('b', ['y']), subtask('c', ['x', 'z']), subtask('d', ['w'], ['c'])],
      [['a', 'c']],
    );
    expect(merged.map((s) => s.id)).toEqual(['a', 'b', 'd']);
    expect(merged[0]).toMatchObject({
      title: 'Title a + Title c',
      writeScope: ['x', 'z'],
      readScope: ['a.md', 'c.md'],
    });
    expect(merged[0]!.instructions).toContain('Do a');
    expect(merged[0]!.instructions).toContain('Do c');
    expect(merged[2]!.dependsOn).toEqual(['a']);
  });

  it('merges transitively (a-b, b-c is one group)', () => {
    const merged = mergeSubtaskGroups(
      [subtask('a', ['1']), subtask('b', ['2']), subtask('c', ['3'])],
      [
        ['a', 'b'],
        ['c', 'b'],
      ],
    );
    expect(merged.map((s) => s.id)).toEqual(['a']);
    expect(merged[0]!.writeScope).toEqual(['1', '2', '3']);
  });
});

describe('capSubtaskCount and orderByDependencies', () => {
  it('folds the extra subtasks into the last allowed one', () => {
    const capped = capSubtaskCount(
      [subtask('a', ['1']), subtask('b', ['2']), subtask('c', ['3']), subtask('d', ['4'])],
      2,
    );
    expect(capped.map((s) => [s.id, s.writeScope])).toEqual([
      ['a', ['1']],
      ['b', ['2', '3', '4']],
    ]);
  });

  it('puts dependencies first and drops edges that would close a cycle', () => {
    const ordered = orderByDependencies([
      subtask('a', ['1'], ['b']),
      subtask('b', ['2']),
      subtask('c', ['3'], ['c2']),
      subtask('c2', ['4'], ['c']),
    ]);
    expect(ordered.map((s) => s.id)).toEqual(['b', 'a', 'c', 'c2']);
    expect(ordered.find((s) => s.id === 'c')!.dependsOn).toEqual([]);
    expect(ordered.find((s) => s.id === 'c2')!.dependsOn).toEqual(['c']);
  });
});
