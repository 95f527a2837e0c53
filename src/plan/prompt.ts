import type { PlanProblem } from './validate-plan.js';
import type { ScopeOverlap } from './scope-overlap.js';

/** The rules the planner is held to, stated to the model. */
export function plannerSystemPrompt(maxSubtasks: number, protectedEntries: readonly string[]): string {
  return `You split a software task into subtasks for coding agents that work in parallel, each on its own branch, each becoming its own pull request.

Rules you are held to:
1. At most ${maxSubtasks} subtasks. Fewer is better: every subtask is a pull request a human reviews. If the task is small or tightly coupled, answer with ONE subtask.
2. Each subtask has a writeScope: the only files it may create or change. Use exact file paths, directories ending in "/", or globs such as "src/cli/**". Paths are relative to the repository root; never absolute, never "..", never ".git/".
3. Write scopes must not overlap: no file, existing or new, may be writable by two subtasks. Overlapping plans are sent back to you.
4. Shared "glue" files (package manifests and lockfiles, barrel index files, changelogs, route tables, shared config) are each owned by exactly ONE subtask. If other subtasks need a change there, give the change to the owner and list the owner in their dependsOn.
5. readScope lists what the agent should read for context (may overlap freely).
6. dependsOn lists ids of subtasks whose pull requests must merge first; list subtasks in the order their pull requests should merge.
7. ids are short, lowercase, dash-separated (e.g. "cli-validation"); instructions are complete and self-contained: the agent sees nothing but its subtask.
8. These paths are protected: no agent may write them, whatever its writeScope says (CI, code ownership, Fanout's own configuration): ${protectedEntries.join(', ')}. Leave them out of every writeScope; a subtask whose whole writeScope is protected is refused. If the task needs one changed, leave that part to a person.

Answer with JSON only.`;
}

/** The first user message: task, repository picture and hints. */
export function plannerTaskPrompt(task: string, outline: string, hints: string | undefined): string {
  return [`Task:\n${task}`, hints ? `Hints from the maintainer:\n${hints}` : '', `Repository files:\n${outline}`]
    .filter(Boolean)
    .join('\n\n');
}

/** Feedback for a rejected plan, naming every problem and overlapping pair. */
export function plannerFeedback(problems: readonly PlanProblem[], overlaps: readonly ScopeOverlap[]): string {
  const lines = ['Your plan was rejected. Fix these and answer with the whole plan again:'];
  for (const problem of problems) lines.push(`- ${problem.message}`);
  for (const overlap of overlaps) {
    const files =
      overlap.files.length > 0
        ? `both may write ${overlap.files.join(', ')}${overlap.fileCount > overlap.files.length ? ` and ${overlap.fileCount - overlap.files.length} more` : ''}`
        : '';
    const entries = overlap.entries.map(([a, b]) => `"${a}" overlaps "${b}"`).join('; ');
    lines.push(
      `- Subtasks "${overlap.a}" and "${overlap.b}" overlap: ${[files, entries].filter(Boolean).join('; ')}. Give each file to one subtask, or combine them.`,
    );
  }
  return lines.join('\n');
}
