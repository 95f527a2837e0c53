import type { ModelCost } from '../domain/model-cost.js';
import type { Subtask } from '../domain/plan.js';
import { formatCost } from './format-cost.js';

/** The body of a subtask's pull request: where it belongs, what it was asked, what it did, what it cost. */
export function pullRequestBody(input: {
  runId: string;
  partOf?: string;
  statusComment?: string;
  subtask: Subtask;
  files: readonly string[];
  summary: string;
  tokens?: { prompt: number; completion: number };
  /** What the model calls cost (with a gateway), every attempt counted. */
  cost?: ModelCost;
}): string {
  const status = input.statusComment ? ` Progress of the whole run: [status comment](${input.statusComment}).` : '';
  return [
    `${input.partOf ? `Part of ${input.partOf}` : `Fanout run \`${input.runId}\``}.${status}`,
    '',
    `### Subtask: ${input.subtask.title}`,
    '',
    input.subtask.instructions,
    '',
    `**Write scope:** ${input.subtask.writeScope.map((entry) => `\`${entry}\``).join(', ')}`,
    '',
    '### Agent summary',
    input.summary,
    '',
    '### Files changed',
    ...input.files.map((file) => `- \`${file}\``),
    ...(input.tokens
      ? [
          '',
          `<sub>Fanout run \`${input.runId}\`, subtask \`${input.subtask.id}\`: ${input.tokens.prompt} prompt + ${input.tokens.completion} completion tokens${input.cost ? `, ${formatCost(input.cost)}` : ''}.</sub>`,
        ]
      : []),
  ].join('\n');
}
