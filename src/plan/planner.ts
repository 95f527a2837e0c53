import type { Plan, Subtask } from '../domain/plan.js';
import { protectedPaths, type ProtectedPaths } from '../domain/protected-paths.js';
import { PlanError } from '../domain/errors.js';
import type { ChatMessage, Llm, TokenUsage } from '../ports/llm.js';
import { generateObject } from '../model/generate-object.js';
import { capSubtaskCount, groupByLinks, mergeSubtaskGroups, orderByDependencies } from './merge-subtasks.js';
import { plannerFeedback, plannerSystemPrompt, plannerTaskPrompt } from './prompt.js';
import { outlineForPlanner } from '../domain/repo-outline.js';
import type { WorkspacePackage } from '../domain/workspace-packages.js';
import { PlanOutputSchema } from './schema.js';
import { findScopeOverlaps, indexFiles, type FileIndex, type ScopeOverlap } from './scope-overlap.js';
import { validatePlan, type PlanProblem } from './validate-plan.js';

export interface PlanTaskInput {
  llm: Llm;
  task: string;
  /** Tracked files at the base commit. */
  files: readonly string[];
  /** The repository's packages (readWorkspacePackages), shown to the planner before the tree. */
  packages?: readonly WorkspacePackage[];
  hints?: string;
  maxSubtasks?: number;
  /** How many times an overlapping or invalid plan is sent back before repairing it ourselves. */
  maxReplans?: number;
  outlineBudgetChars?: number;
  /** The repository's protected paths (`protectedPaths(config.protectedPaths)`); the defaults when absent. */
  protectedPaths?: ProtectedPaths;
  signal?: AbortSignal;
}

export interface PlanResult {
  plan: Plan;
  /** Planner calls, counting replans (not JSON repairs). */
  attempts: number;
  /** Groups of subtask ids merged because they still overlapped after replanning. */
  merged: string[][];
  /** What was changed by Fanout rather than by the model, for the report. */
  notes: string[];
  usage: TokenUsage;
}

/** Plans a task into subtasks whose write scopes never overlap. */
export async function planTask(input: PlanTaskInput): Promise<PlanResult> {
  const maxSubtasks = input.maxSubtasks ?? 4;
  const maxReplans = input.maxReplans ?? 2;
  const index = indexFiles(input.files);
  const guarded = input.protectedPaths ?? protectedPaths();
  const messages: ChatMessage[] = [
    { role: 'system', content: plannerSystemPrompt(maxSubtasks, guarded.entries) },
    {
      role: 'user',
      content: plannerTaskPrompt(
        input.task,
        outlineForPlanner(index.sorted, input.packages ?? [], input.outlineBudgetChars),
        input.hints,
      ),
    },
  ];
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  for (let attempt = 1; ; attempt += 1) {
    const answer = await generateObject({
      llm: input.llm,
      schema: PlanOutputSchema,
      name: 'plan',
      messages,
      signal: input.signal,
    });
    usage.promptTokens += answer.usage.promptTokens;
    usage.completionTokens += answer.usage.completionTokens;
    const { subtasks, problems, notes } = validatePlan(answer.value.subtasks, index, maxSubtasks, guarded);
    const overlaps = scopesAreValid(problems) ? findScopeOverlaps(subtasks, index) : [];
    if (problems.length === 0 && overlaps.length === 0) {
      return {
        plan: { task: input.task, subtasks: orderByDependencies(subtasks) },
        attempts: attempt,
        merged: [],
        notes,
        usage,
      };
    }
    if (attempt > maxReplans) {
      const repaired = repair(input.task, subtasks, problems, overlaps, index, maxSubtasks);
      return { ...repaired, notes: [...notes, ...repaired.notes], attempts: attempt, usage };
    }
    messages.push({ role: 'assistant', content: JSON.stringify(answer.value) });
    messages.push({ role: 'user', content: plannerFeedback(problems, overlaps) });
  }
}

function scopesAreValid(problems: readonly PlanProblem[]): boolean {
  return !problems.some((problem) => problem.kind === 'bad-scope');
}

// Problems replanning may fix but Fanout cannot fix for the model.
const FATAL_PROBLEMS: ReadonlySet<PlanProblem['kind']> = new Set([
  'no-subtasks',
  'duplicate-id',
  'empty-scope',
  'bad-scope',
  'protected-scope',
]);

/** Last resort after replanning: fix what can be fixed mechanically, refuse what cannot. */
function repair(
  task: string,
  subtasks: Subtask[],
  problems: PlanProblem[],
  overlaps: ScopeOverlap[],
  index: FileIndex,
  maxSubtasks: number,
): Omit<PlanResult, 'attempts' | 'usage'> {
  const fatal = problems.filter((problem) => FATAL_PROBLEMS.has(problem.kind));
  if (fatal.length > 0) {
    throw new PlanError(
      `The planner's plan is still invalid after replanning:\n${fatal.map((problem) => `- ${problem.message}`).join('\n')}`,
    );
  }
  const notes: string[] = [];
  const ids = new Set(subtasks.map((subtask) => subtask.id));
  let repaired = subtasks.map((subtask) => ({
    ...subtask,
    dependsOn: subtask.dependsOn.filter((id) => ids.has(id) && id !== subtask.id),
  }));
  const merged: string[][] = [];
  // Merging unions scopes, so one pass removes every overlap; the loop is a guard, not a hope.
  for (let current = overlaps; current.length > 0; current = findScopeOverlaps(repaired, index)) {
    const links = current.map((overlap): [string, string] => [overlap.a, overlap.b]);
    for (const group of groupByLinks(repaired, links))
      if (group.length > 1) merged.push(group.map((subtask) => subtask.id));
    repaired = mergeSubtaskGroups(repaired, links);
  }
  if (merged.length > 0)
    notes.push(`Merged overlapping subtasks into one: ${merged.map((group) => group.join(' + ')).join('; ')}.`);
  if (repaired.length > maxSubtasks) {
    const folded = repaired.slice(maxSubtasks - 1).map((subtask) => subtask.id);
    repaired = capSubtaskCount(repaired, maxSubtasks);
    notes.push(`Folded ${folded.join(', ')} into one subtask to stay within ${maxSubtasks} subtasks.`);
  }
  for (const problem of problems) {
    if (problem.kind === 'unknown-dependency' || problem.kind === 'cycle') notes.push(`Ignored: ${problem.message}`);
  }
  return { plan: { task, subtasks: orderByDependencies(repaired) }, merged, notes };
}
