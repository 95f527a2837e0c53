import type { CliEvent } from '../../../src/agent/cli/cli-event.js';
import type { CliAgentSpec } from '../../../src/agent/cli/cli-spec.js';
import { reviewWrite } from '../../../src/agent/cli/write-review.js';

/**
 * The model-driven stand-in CLI (fake-model-cli.mjs) as a backend spec: it reaches its model and
 * its hook through Fanout's gateway like a real CLI, and its tools are named as Fanout's.
 */
export function fakeModelCliSpec(): CliAgentSpec {
  return {
    name: 'codex',
    canResume: false,
    invocation({ prompt, model }) {
      const config = {
        prompt,
        model: model.name,
        baseUrl: model.urls.openai,
        hookUrl: model.urls.toolUseHook,
        credential: model.credential,
      };
      return { args: [JSON.stringify(config)], env: {} };
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
          return [
            {
              kind: 'tool-result',
              id: String(event.id),
              ok: event.ok === true,
              ...(typeof event.error === 'string' ? { error: event.error } : {}),
            },
          ];
        case 'done':
          return [{ kind: 'finished', ok: event.ok === true, summary: String(event.summary) }];
        default:
          return [];
      }
    },
    async reviewToolUse(use, request) {
      if (use.tool !== 'write_file') return null;
      return typeof use.input.path === 'string' ? reviewWrite(use.input.path, request) : 'write refused: no path';
    },
  };
}
