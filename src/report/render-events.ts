import { formatUsd } from './format-cost.js';
import { plainText } from './plain-text.js';
import type { AgentEvent } from '../domain/run.js';

/** An agent's event log as lines a person can scan: sequence, time, event, the gist of its data. */
export function renderEvents(events: readonly AgentEvent[]): string {
  return plainText(
    events
      .map((event) =>
        `${String(event.seq).padStart(4)}  ${event.at.slice(11, 19)}  ${event.type.padEnd(14)} ${gist(event)}`.trimEnd(),
      )
      .join('\n'),
  );
}

function gist(event: AgentEvent): string {
  const data = event.data;
  switch (event.type) {
    case 'tool-call':
      return `step ${data.step} ${data.tool}${data.arguments ? ` ${String(data.arguments).slice(0, 100)}` : ''}${data.ok === false ? `  -> error: ${String(data.error ?? '').slice(0, 160)}` : ''}`;
    case 'model-call': {
      const usage = data.usage as { promptTokens?: number; completionTokens?: number } | null | undefined;
      return `step ${data.step}, ${data.toolCalls} tool call(s)${usage ? `, ${usage.promptTokens}+${usage.completionTokens} tokens` : ''}`;
    }
    case 'model-cost':
      return modelCostGist(data);
    case 'guard-hint':
      return `step ${data.step}: ${String(data.hint)}`;
    case 'agent-failed':
      return `${data.reason}: ${data.message}`;
    case 'validated': {
      const commands =
        (data.commands as
          | Array<{
              run: string;
              passed: boolean;
              exitCode: number | null;
              durationMs: number;
              skipped?: boolean;
              outputTail: string;
            }>
          | undefined) ?? [];
      return (
        commands
          .map(
            (command) =>
              `${command.skipped ? 'skipped' : command.passed ? 'passed' : `failed (exit ${command.exitCode})`} ${command.run} ${(command.durationMs / 1000).toFixed(1)} s${
                command.passed
                  ? ''
                  : `\n${command.outputTail
                      .trim()
                      .split('\n')
                      .slice(-6)
                      .map((line) => `                          ${line}`)
                      .join('\n')}`
              }`,
          )
          .join('\n                          ') || 'no validation commands'
      );
    }
    case 'committed':
      return `${String(data.commit).slice(0, 8)} ${(data.files as string[] | undefined)?.join(', ') ?? ''}`;
    default:
      return Object.keys(data).length > 0 ? JSON.stringify(data).slice(0, 160) : '';
  }
}

/** The gateway's view of a call: model, tokens and cost, or the budget that refused it. */
function modelCostGist(data: Record<string, unknown>): string {
  const model = typeof data.model === 'string' ? data.model : 'an unnamed model';
  if (typeof data.refusal === 'string') return `refused: ${data.refusal}`;
  const usage = data.usage as { promptTokens?: number; completionTokens?: number } | null | undefined;
  if (!usage) return `${model}, no usage reported (HTTP ${String(data.status)})`;
  const cost = typeof data.costUsd === 'number' ? formatUsd(data.costUsd) : `cost unknown for ${model}`;
  return `${model}, ${usage.promptTokens}+${usage.completionTokens} tokens, ${cost}`;
}
