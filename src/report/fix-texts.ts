import type { FixAttempt, FixTrigger } from '../domain/run.js';
import type { CheckFailure, ReviewComment, ReviewFeedback } from '../ports/forge.js';

/** The label a pull request gets when Fanout hands it to a person. */
export const NEEDS_HUMAN_LABEL = 'fanout: needs human';

// What the agent is shown of one failure's output: enough to act on, not a whole log.
const LOG_TAIL_CHARS = 3_000;
const MAX_ANNOTATIONS = 20;

/** An inline comment with the code it points at, as the agent sees it. */
export interface CommentInContext {
  comment: ReviewComment;
  /** Numbered lines around the comment's line in the head's version of the file; empty when unknown. */
  code: string;
}

/** What a review asks for, for the agent: its text, then each inline comment with the code around its line (pure). */
export function reviewFeedbackText(
  review: ReviewFeedback,
  inScope: readonly CommentInContext[],
  outOfScope: readonly ReviewComment[],
): string {
  const parts = [
    `Review by @${review.reviewer} (${review.state.replace('_', ' ')}):`,
    review.body.trim() || '(no overall comment)',
  ];
  for (const [index, { comment, code }] of inScope.entries()) {
    const where = comment.line === null ? comment.path : `${comment.path}, line ${comment.line}`;
    parts.push(
      `Comment ${index + 1} on ${where}:\n${comment.body.trim()}${code ? `\n\nThe code there now:\n\`\`\`\n${code}\n\`\`\`` : ''}`,
    );
  }
  if (outOfScope.length > 0) {
    parts.push(
      `Comments on files outside your write scope (do not change them; Fanout answers them):\n${outOfScope.map((comment) => `- ${comment.path}: ${comment.body.trim()}`).join('\n')}`,
    );
  }
  return parts.join('\n\n');
}

/** What failed checks said, for the agent: each check's summary, annotations and log tail (pure). */
export function checkFailuresText(failures: readonly CheckFailure[]): string {
  if (failures.length === 0)
    return "A check failed on your pull request, but it gave no details. Run the project's tests and fix what fails inside your scope.";
  return failures
    .map((failure) => {
      const annotations = failure.annotations
        .slice(0, MAX_ANNOTATIONS)
        .map((note) => `- ${note.path}${note.line === null ? '' : `:${note.line}`}: ${note.message}`);
      return [
        `Check "${failure.name}" failed.`,
        failure.summary.trim(),
        annotations.length > 0 ? `Annotations:\n${annotations.join('\n')}` : '',
        failure.logTail.trim() ? `End of its output:\n\`\`\`\n${failure.logTail.slice(-LOG_TAIL_CHARS)}\n\`\`\`` : '',
      ]
        .filter(Boolean)
        .join('\n');
    })
    .join('\n\n');
}

/** A `fix` command's instructions, for the agent (pure). */
export function commandFeedbackText(by: string, instructions: string): string {
  return `@${by} asked for a fix:\n${instructions.trim() || 'Look over your change again and fix what is wrong with it.'}`;
}

/** Numbered lines `line - radius` … `line + radius` of a file (pure). */
export function codeAround(content: string, line: number, radius = 3): string {
  const lines = content.split('\n');
  const from = Math.max(1, line - radius);
  const to = Math.min(lines.length, line + radius);
  const width = String(to).length;
  return lines
    .slice(from - 1, to)
    .map((text, index) => `${String(from + index).padStart(width)}${from + index === line ? '>' : ' '} ${text}`)
    .join('\n');
}

/** The reply in a review thread the fix addressed (pure). */
export function addressedReply(commit: string, summary: string): string {
  return `Fanout's agent pushed ${commit.slice(0, 8)} for this.\n\n${summary.trim()}`;
}

/** The reply in a thread about a file outside the subtask's write scope (pure). */
export function outOfScopeReply(path: string, writeScope: readonly string[]): string {
  return `\`${path}\` is outside this subtask's write scope (${writeScope.map((entry) => `\`${entry}\``).join(', ')}), so Fanout's agent did not change it. A person, or another subtask, has to make this change.`;
}

/** The reply when an attempt pushed nothing (pure). */
export function notFixedReply(message: string): string {
  return `Fanout's agent tried and pushed nothing: ${message.replace(/\.+$/, '')}.`;
}

/** The comment on a pull request after a fix attempt that was not started by a review (pure). */
export function fixComment(trigger: FixTrigger, attempt: FixAttempt, validation: { passed: boolean } | null): string {
  const asked =
    trigger.kind === 'check'
      ? 'the failing checks'
      : trigger.kind === 'command'
        ? `@${trigger.by}'s request`
        : `@${trigger.reviewer}'s review`;
  if (attempt.state !== 'pushed' || !attempt.commit)
    return `Fix attempt ${attempt.number} for ${asked}: ${notFixedReply(attempt.message ?? 'no change was made')}`;
  const checks =
    validation === null
      ? ''
      : validation.passed
        ? ' Validation passed.'
        : ' Its checks still fail; see `fanout/validate` and `fanout/scope`.';
  return `Fix attempt ${attempt.number} for ${asked}: pushed ${attempt.commit.slice(0, 8)}.${checks}\n\n${(attempt.message ?? '').trim()}`;
}

/** The comment when Fanout stops trying and hands the pull request to a person (pure). */
export function needsHumanComment(reason: string, fixes: readonly FixAttempt[]): string {
  const tried = fixes.map((fix) => {
    const what =
      fix.trigger.kind === 'check'
        ? 'failing checks'
        : fix.trigger.kind === 'command'
          ? `request by @${fix.trigger.by}`
          : `review by @${fix.trigger.reviewer}`;
    const result =
      fix.state === 'pushed' && fix.commit
        ? `pushed ${fix.commit.slice(0, 8)}`
        : `nothing pushed (${fix.message ?? 'no change'})`;
    return `- attempt ${fix.number}, ${what}: ${result}`;
  });
  return [
    `Fanout needs a person here: ${reason.replace(/\.+$/, '')}.`,
    tried.length > 0 ? `What it tried:\n${tried.join('\n')}` : '',
    'Push a fix to this branch yourself: Fanout validates it again and merges it when it is green (and approved, under `approval: manual`).',
  ]
    .filter(Boolean)
    .join('\n\n');
}
