import { describe, expect, it } from 'vitest';
import type { Subtask } from '../../src/domain/plan.js';
import { indexFiles } from '../../src/plan/scope-overlap.js';
import { validatePlan } from '../../src/plan/validate-plan.js';

const index = indexFiles(['src/a.ts', 'src/lib/b.ts', 'README.md']);
const subtask = (id: string, writeScope: string[], extra: Partial<Subtask> = {}): Subtask => ({
  id,
  title: id,
  instructions: 'do it',
  writeScope,
  readScope: [],
  dependsOn: [],
  ...extra,
});

describe('validatePlan', () => {
  it.each([
    ['', 'write scope "" is empty'],
    ['/etc/passwd', 'is absolute'],
    ['C:\\repo\\x', 'is absolute'],
    ['~/notes', 'is absolute'],
    ['../outside.txt', "escapes the repository with '..'"],
    ['src/../../x', "escapes the repository with '..'"],
    ['.git/config', 'touches .git/'],
    ['sub/.git/hooks/pre-commit', 'touches .git/'],
  ])('rejects the scope %j, naming the subtask and the path', (path, reason) => {
    const { problems } = validatePlan([subtask('bad-one', ['src/a.ts', path])], index, 4);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'bad-scope', subtaskId: 'bad-one' });
    expect(problems[0]!.message).toContain('"bad-one"');
    expect(problems[0]!.message).toContain(`"${path}"`);
    expect(problems[0]!.message).toContain(reason);
  });

  it('rejects an empty write scope', () => {
    const { problems } = validatePlan([subtask('nothing', [])], index, 4);
    expect(problems.map((problem) => problem.kind)).toEqual(['empty-scope']);
  });

  it('normalizes directories, ./ prefixes and the repository root', () => {
    const { subtasks, problems } = validatePlan([subtask('a', ['./src/lib', 'docs/', '.', 'src/*.ts'])], index, 4);
    expect(problems).toEqual([]);
    expect(subtasks[0]!.writeScope).toEqual(['src/lib/', 'docs/', '**', 'src/*.ts']);
  });

  it('finds too many subtasks, duplicate ids and unknown dependencies', () => {
    const { problems } = validatePlan(
      [
        subtask('a', ['src/a.ts']),
        subtask('b', ['README.md'], { dependsOn: ['a', 'ghost'] }),
        subtask('a', ['src/lib/']),
      ],
      index,
      2,
    );
    expect(problems.map((problem) => problem.kind).sort()).toEqual(['duplicate-id', 'too-many', 'unknown-dependency']);
  });

  it('names a dependency cycle', () => {
    const { problems } = validatePlan(
      [subtask('a', ['src/a.ts'], { dependsOn: ['b'] }), subtask('b', ['README.md'], { dependsOn: ['a'] })],
      index,
      4,
    );
    expect(problems).toEqual([{ kind: 'cycle', subtaskId: 'a', message: 'dependsOn forms a cycle: a -> b -> a.' }]);
  });
});
