import type { Subtask } from '../domain/plan.js';
import { protectedPaths, type ProtectedPaths } from '../domain/protected-paths.js';
import { normalizeScopeEntry, scopeEntryProblem } from '../domain/scope.js';
import type { FileIndex } from './scope-overlap.js';

/** Something wrong with a plan, named so the planner (and a maintainer) can fix it. */
export interface PlanProblem {
  kind:
    | 'no-subtasks'
    | 'too-many'
    | 'duplicate-id'
    | 'empty-scope'
    | 'bad-scope'
    | 'protected-scope'
    | 'unknown-dependency'
    | 'cycle';
  subtaskId: string;
  message: string;
}

/**
 * Checks ids, dependencies and scopes; returns the subtasks with normalized scopes, the problems,
 * and notes on what was repaired: write-scope entries naming only protected paths are dropped
 * before any agent starts (a subtask left with none of its own is a problem).
 */
export function validatePlan(
  subtasks: readonly Subtask[],
  index: FileIndex,
  maxSubtasks: number,
  guarded: ProtectedPaths = protectedPaths(),
): { subtasks: Subtask[]; problems: PlanProblem[]; notes: string[] } {
  const problems: PlanProblem[] = [];
  const notes: string[] = [];
  const isDirectory = directoryLookup(index);
  if (subtasks.length === 0)
    problems.push({ kind: 'no-subtasks', subtaskId: '-', message: 'The plan has no subtasks.' });
  if (subtasks.length > maxSubtasks) {
    problems.push({
      kind: 'too-many',
      subtaskId: '-',
      message: `The plan has ${subtasks.length} subtasks; at most ${maxSubtasks} are allowed. Combine related work.`,
    });
  }
  const ids = new Set<string>();
  for (const subtask of subtasks) {
    if (ids.has(subtask.id))
      problems.push({
        kind: 'duplicate-id',
        subtaskId: subtask.id,
        message: `Subtask id "${subtask.id}" is used twice.`,
      });
    ids.add(subtask.id);
  }
  const normalized = subtasks.map((subtask) => {
    if (subtask.writeScope.length === 0) {
      problems.push({
        kind: 'empty-scope',
        subtaskId: subtask.id,
        message: `Subtask "${subtask.id}" has an empty write scope.`,
      });
    }
    for (const dependency of subtask.dependsOn) {
      if (!ids.has(dependency) || dependency === subtask.id) {
        problems.push({
          kind: 'unknown-dependency',
          subtaskId: subtask.id,
          message: `Subtask "${subtask.id}" depends on unknown subtask "${dependency}".`,
        });
      }
    }
    const writeScope = normalizeScope(subtask, 'write', subtask.writeScope, isDirectory, problems);
    const dropped = writeScope.filter((entry) => guarded.coversAll(entry));
    const kept = writeScope.filter((entry) => !dropped.includes(entry));
    if (dropped.length > 0 && kept.length === 0) {
      problems.push({
        kind: 'protected-scope',
        subtaskId: subtask.id,
        message: `Subtask "${subtask.id}" may write only protected paths (${dropped.join(', ')}): agents never change CI, code ownership or Fanout's configuration (${guarded.entries.join(', ')}). Give it other files, or leave that change to a person.`,
      });
    } else if (dropped.length > 0) {
      notes.push(
        `Removed protected paths from \`${subtask.id}\`'s write scope: ${dropped.map((entry) => `\`${entry}\``).join(', ')} (agents never change CI, code ownership or Fanout's configuration).`,
      );
    }
    return {
      ...subtask,
      writeScope: dropped.length > 0 && kept.length > 0 ? kept : writeScope,
      readScope: normalizeScope(subtask, 'read', subtask.readScope, isDirectory, problems),
    };
  });
  const cycle = findCycle(normalized);
  if (cycle)
    problems.push({ kind: 'cycle', subtaskId: cycle[0]!, message: `dependsOn forms a cycle: ${cycle.join(' -> ')}.` });
  return { subtasks: normalized, problems, notes };
}

function normalizeScope(
  subtask: Subtask,
  kind: 'write' | 'read',
  entries: readonly string[],
  isDirectory: (path: string) => boolean,
  problems: PlanProblem[],
): string[] {
  const result: string[] = [];
  for (const raw of entries) {
    const problem = scopeEntryProblem(raw);
    if (problem) {
      problems.push({
        kind: 'bad-scope',
        subtaskId: subtask.id,
        message: `Subtask "${subtask.id}" ${kind} scope "${raw}" ${problem}.`,
      });
      continue;
    }
    const entry = normalizeScopeEntry(raw, isDirectory);
    if (!result.includes(entry)) result.push(entry);
  }
  return result;
}

function directoryLookup(index: FileIndex): (path: string) => boolean {
  let directories: Set<string> | undefined;
  return (path) => {
    if (!directories) {
      directories = new Set();
      for (const file of index.sorted) {
        for (let at = file.indexOf('/'); at !== -1; at = file.indexOf('/', at + 1)) directories.add(file.slice(0, at));
      }
    }
    return directories.has(path);
  };
}

/** Returns one dependency cycle as a list of ids, or null. */
export function findCycle(subtasks: readonly Pick<Subtask, 'id' | 'dependsOn'>[]): string[] | null {
  const byId = new Map(subtasks.map((subtask) => [subtask.id, subtask]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    const seen = state.get(id);
    if (seen === 'done') return null;
    if (seen === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dependency of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(dependency)) continue;
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const subtask of subtasks) {
    const cycle = visit(subtask.id);
    if (cycle) return cycle;
  }
  return null;
}
