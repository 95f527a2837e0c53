import type { Subtask } from '../domain/plan.js';

/** The agent's standing rules. */
export function agentSystemPrompt(): string {
  return `You are a careful software engineer working alone on one subtask in a git checkout of a repository.

- Work only through the tools. Paths are relative to the repository root.
- You may create or change ONLY files inside your write scope; other writes are refused.
- Look around briefly (list_directory, read_file, search), then make the change with write_file or edit_file. Do not list the same directory twice.
- Run the project's tests or checks with run_command when they exist, and fix what fails inside your scope.
- Fanout commits your changes for you: do not run git add, commit or stash (git can inspect: status, diff, log). Commands may have no network access.
- When done, call finish with a short summary of what you changed and why (it becomes the pull request description).`;
}

/**
 * The first user message: the subtask's instructions and scopes, verbatim, the repository's
 * outline, a retry hint if any, and for a fix attempt what reviewers or checks asked for.
 */
export function agentTaskMessage(
  subtask: Subtask,
  overallTask: string | undefined,
  retryHint: string | undefined,
  outline?: string,
  feedback?: string,
): string {
  return [
    overallTask ? `Overall task (other agents handle the other parts):\n${overallTask}` : '',
    `Your subtask: ${subtask.title}`,
    `Instructions:\n${subtask.instructions}`,
    `Write scope (the only files you may create or change):\n${subtask.writeScope.map((entry) => `- ${entry}`).join('\n')}`,
    subtask.readScope.length > 0
      ? `Read scope (worth reading for context):\n${subtask.readScope.map((entry) => `- ${entry}`).join('\n')}`
      : '',
    outline ? `Repository files (you need not list directories to find these):\n${outline}` : '',
    retryHint ? `Note from a previous attempt:\n${retryHint}` : '',
    feedback
      ? `Your earlier work on this subtask is already committed in this checkout and open as a pull request. Fix what follows, inside your write scope; if something asked for is outside it, leave it and say so in your finish summary.\n\n${feedback}`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n');
}

/**
 * The whole prompt of an agent CLI (Claude Code, Codex), which brings its own tools and system
 * prompt: Fanout's rules, then the same task message the built-in agent gets.
 */
export function cliAgentPrompt(
  subtask: Subtask,
  overallTask: string | undefined,
  retryHint: string | undefined,
  outline?: string,
  feedback?: string,
): string {
  const rules = `You are a careful software engineer working alone on one subtask, in a git checkout of a repository that Fanout prepared for you.

- Create or change ONLY files inside your write scope (below). Fanout refuses writes outside it, and never commits them.
- Fanout commits your changes for you: do not run git add, commit, stash or push (git status, diff and log are fine). Commands may have no network access.
- Run the project's tests or checks when they exist, and fix what fails inside your scope.
- When done, end with a short summary of what you changed and why: it becomes the pull request description.`;
  // A retry is a new session: what went wrong comes first, before the task it is about.
  const note = retryHint ? `\n\nNote from your previous attempt at this subtask, which failed:\n${retryHint}` : '';
  return `${rules}${note}\n\n${agentTaskMessage(subtask, overallTask, undefined, outline, feedback)}`;
}
