import type { CliEvent } from '../../../src/agent/cli/cli-event.js';
import type { CliAgentSpec } from '../../../src/agent/cli/cli-spec.js';

/** One step of the fake CLI's program (see fake-agent-cli.mjs). */
export type FakeCliStep =
  | { say: string; usage?: { prompt: number; completion: number } }
  | { write: string; content?: string; usage?: { prompt: number; completion: number } }
  | { run: string; usage?: { prompt: number; completion: number } }
  | { read: string; usage?: { prompt: number; completion: number } }
  | { spawnSleeper: string }
  | { silent: true };

/** What the fake CLI plays: its steps, its summary, and the steps of a resumed turn. */
export interface FakeCliProgram {
  steps: FakeCliStep[];
  summary?: string;
  ok?: boolean;
  resume?: FakeCliStep[];
  resumeSummary?: string;
}

/**
 * The fake CLI as a backend spec (the test double of a real CLI's spec): the program travels as
 * the prompt's stand-in, and the prompts the driver sent are kept for the test to read.
 */
export function fakeCliSpec(program: FakeCliProgram): CliAgentSpec & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    name: 'codex',
    canResume: true,
    prompts,
    invocation({ prompt, resume, model }) {
      prompts.push(prompt);
      return {
        args: [...(resume ? ['--resume', resume] : []), JSON.stringify(program)],
        env: { FAKE_MODEL: model.name },
      };
    },
    parseLine(line): CliEvent[] {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return [];
      }
      const usage = event.usage as { prompt: number; completion: number } | undefined;
      switch (event.type) {
        case 'session':
          return [{ kind: 'session-started', sessionId: String(event.id) }];
        case 'model':
          return [
            {
              kind: 'model-call',
              usage: usage ? { promptTokens: usage.prompt, completionTokens: usage.completion } : null,
            },
          ];
        case 'tool':
          return [
            {
              kind: 'tool-call',
              id: String(event.id),
              tool: String(event.tool),
              arguments: event.args as Record<string, unknown>,
            },
          ];
        case 'result':
          return [{ kind: 'tool-result', id: String(event.id), ok: event.ok === true }];
        case 'done':
          return [{ kind: 'finished', ok: event.ok === true, summary: String(event.summary) }];
        default:
          return [];
      }
    },
  };
}
