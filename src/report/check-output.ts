import type { CheckConclusion, CheckOutput } from '../ports/forge.js';
import type { ValidationResult } from '../validate/run-validation.js';

// GitHub keeps at most 65,535 characters of a check's summary and of its text.
const CHECK_TEXT_LIMIT = 60_000;

/** What the `fanout/validate` check shows for a validation result (pure). */
export function validationCheckOutput(
  result: ValidationResult,
  configured: number,
  when: 'first' | 'after-update' | 'after-fix',
): { conclusion: CheckConclusion } & CheckOutput {
  const lines = result.commands.map((command) => {
    if (command.skipped) return `- \`${command.run}\`: skipped (the change touches none of its paths)`;
    const status = command.timedOut
      ? 'timed out'
      : command.passed
        ? 'passed'
        : `failed (exit ${command.exitCode})${command.failedOnBase ? ' as it does on the base: not held against this change' : ''}`;
    return `- \`${command.run}\`: ${status} in ${(command.durationMs / 1000).toFixed(1)} s`;
  });
  const skipped = configured - result.commands.length;
  if (skipped > 0) lines.push(`- ${skipped} later command(s) not run`);
  const after =
    when === 'after-update'
      ? ' after updating the branch with its base'
      : when === 'after-fix'
        ? ' after a fix attempt'
        : '';
  if (configured === 0) {
    return {
      conclusion: 'neutral',
      title: 'No validation configured',
      summary: 'Merged without checks: `.github/fanout.yml` has no `validate:` commands.',
    };
  }
  const text = result.commands.map((command) => `$ ${command.run}\n${command.outputTail}`).join('\n\n');
  return {
    conclusion: result.passed ? 'success' : 'failure',
    title: result.passed ? `Validation passed${after}` : `Validation failed${after}`,
    summary: lines.join('\n'),
    ...(text ? { text: `\`\`\`\n${text.slice(-CHECK_TEXT_LIMIT)}\n\`\`\`` } : {}),
  };
}

/**
 * What the `fanout/scope` check shows: the PR's files against the subtask's write scope (pure).
 * `protectedFiles` (part of `outside`) are CI, ownership or Fanout configuration no scope grants.
 */
export function scopeCheckOutput(
  files: readonly string[],
  outside: readonly string[],
  writeScope: readonly string[],
  protectedFiles: readonly string[] = [],
): { conclusion: CheckConclusion } & CheckOutput {
  const scope = writeScope.map((entry) => `\`${entry}\``).join(', ');
  const list = (paths: readonly string[]) => paths.map((file) => `- \`${file}\``).join('\n');
  if (outside.length > 0) {
    const elsewhere = outside.filter((file) => !protectedFiles.includes(file));
    const parts = [
      ...(protectedFiles.length > 0
        ? [
            `These files are protected (CI, code ownership or Fanout's configuration); no agent's pull request may change them:\n${list(protectedFiles)}`,
          ]
        : []),
      ...(elsewhere.length > 0
        ? [`This pull request may change only ${scope}. These changes are outside it:\n${list(elsewhere)}`]
        : []),
    ];
    return {
      conclusion: 'failure',
      title:
        protectedFiles.length > 0
          ? `${protectedFiles.length} protected file(s) changed`
          : `${outside.length} file(s) outside the write scope`,
      summary: parts.join('\n\n'),
    };
  }
  return {
    conclusion: 'success',
    title: `${files.length} file(s), all inside the write scope`,
    summary: `Write scope: ${scope}.\n${files.map((file) => `- \`${file}\``).join('\n')}`,
  };
}
