import type { AgentOutcome } from '../domain/agent-outcome.js';

type Failure = Extract<AgentOutcome, { kind: 'failed' }>;

/** A note for the second attempt, built from how the first one failed (text for the model). */
export function retryHint(
  failure:
    | Failure
    | { reason: 'out-of-scope' | 'escaping-links' | 'too-large' | 'nested-repositories'; paths: string[] }
    | { reason: 'no-changes' },
): string {
  switch (failure.reason) {
    case 'looping':
      return `The previous attempt was cancelled for repeating the same call (${lastCall(failure)}). Do not repeat a call whose result you already have: read the specific files you need once, then write the change.`;
    case 'no-progress':
      return 'The previous attempt explored for many steps without changing a file. Read at most a few files, then write the change early and refine it.';
    case 'error-streak':
      return `The previous attempt failed with tool errors in a row, the last: ${lastCall(failure)}. Check paths and arguments; write only inside your write scope.`;
    case 'out-of-scope':
      return `The previous attempt changed files outside its write scope (${failure.paths.join(', ')}), so its work was discarded. Change only files in the write scope; mention any other needed change in the finish summary.`;
    case 'escaping-links':
      return `The previous attempt made symbolic links that point outside the repository (${failure.paths.join(', ')}), so its work was discarded. Do not create links that leave the repository.`;
    case 'nested-repositories':
      return `The previous attempt added nested git repositories (${failure.paths.join(', ')}), so its work was discarded. Do not run git init or add submodules.`;
    case 'too-large':
      return `The previous attempt made files too large to commit (${failure.paths.join(', ')}), so its work was discarded. Do not create large or generated files.`;
    case 'no-changes':
      return 'The previous attempt finished without changing any file. The subtask needs a change: make it with write_file or edit_file before calling finish.';
    case 'stalled':
    case 'model-error':
      return `The previous attempt stopped because the model did not answer (${failure.message}). Work in small steps.`;
    case 'budget':
      return `The previous attempt was stopped by Fanout's spending budget (${failure.message}). Be direct: fewer reads, write the change sooner.`;
    case 'step-budget':
    case 'time-budget':
    case 'token-budget':
      return `The previous attempt ran out of budget (${failure.message}). Be direct: fewer reads, write the change sooner.`;
    case 'resource-limit: processes':
    case 'resource-limit: memory':
    case 'resource-limit: disk':
    case 'resource-limit: file-size':
      return `The previous attempt's commands hit a resource limit (${failure.message}). Run smaller commands: fewer parallel jobs, less data.`;
    case 'crashed':
    case 'cancelled':
      return `The previous attempt failed: ${failure.message}.`;
  }
}

function lastCall(failure: Failure): string {
  return failure.lastEvents.at(-1) ?? 'unknown';
}
