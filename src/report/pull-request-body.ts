import type { Subtask } from '../domain/plan.js';

/** The body of a subtask's pull request: where it belongs, what it was asked, what it did. */
export function pullRequestBody(input: { runId: string; partOf?: string; subtask: Subtask; files: readonly string[]; summary: string }): string {
  return [
    input.partOf ? `Part of ${input.partOf}.` : `Fanout run \`${input.runId}\`.`,
    '',
    `### Subtask: ${input.subtask.title}`,
    '',
    input.subtask.instructions,
    '',
    '### Files changed',
    ...input.files.map((file) => `- \`${file}\``),
    '',
    '### Agent summary',
    input.summary,
    '',
    `<sub>Write scope: ${input.subtask.writeScope.map((entry) => `\`${entry}\``).join(', ')}</sub>`,
  ].join('\n');
}
