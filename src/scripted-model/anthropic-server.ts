import {
  anthropicError,
  anthropicMessage,
  anthropicStreamEvents,
  type AnthropicMessagesBody,
} from './anthropic-wire.js';
import { startTurnServer, writeJson, writeSse, type TurnServer } from './turn-server.js';
import { estimateUsage, type TurnScript } from './turns.js';

export interface ScriptedAnthropicOptions {
  script: TurnScript<AnthropicMessagesBody>;
  /** Model ids for GET /v1/models. */
  models?: string[];
}

/** A running fake Anthropic endpoint. */
export interface ScriptedAnthropicServer extends TurnServer<AnthropicMessagesBody> {
  /** The value for ANTHROPIC_BASE_URL (the origin: clients append `/v1/messages`). */
  baseUrl: string;
}

/**
 * Starts an Anthropic Messages API server on 127.0.0.1 that answers `POST /v1/messages` from a
 * script, streamed (SSE) or whole, with tool_use blocks and usage; `POST /v1/messages/count_tokens`
 * gets an estimate and `GET /v1/models` a list, so a client such as Claude Code never stalls.
 */
export async function startScriptedAnthropicServer(
  options: ScriptedAnthropicOptions,
): Promise<ScriptedAnthropicServer> {
  const models = options.models ?? ['claude-scripted'];
  const server = await startTurnServer<AnthropicMessagesBody>(
    {
      isModelCall: (method, path) => method === 'POST' && path === '/v1/messages',
      writeTurn: (res, call, turn) => {
        const usage = turn.usage ?? estimateUsage(call.body, turn);
        if (!call.body.stream) return writeJson(res, 200, anthropicMessage(call.body.model, turn, usage));
        writeSse(res, anthropicStreamEvents(call.body.model, turn, usage), turn.stallAfterEvents);
      },
      writeError: (res, error) => {
        const headers: Record<string, string> =
          error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
        writeJson(res, error.status, anthropicError(error.status, error.message), headers);
      },
      answerOther: (res, method, path, body) => {
        if (method === 'POST' && path === '/v1/messages/count_tokens') {
          writeJson(res, 200, { input_tokens: Math.ceil(body.length / 4) });
          return true;
        }
        if (method === 'GET' && path === '/v1/models') {
          const data = models.map((id) => ({
            type: 'model',
            id,
            display_name: id,
            created_at: '2025-01-01T00:00:00Z',
          }));
          writeJson(res, 200, { data, has_more: false, first_id: models[0] ?? null, last_id: models.at(-1) ?? null });
          return true;
        }
        return false;
      },
    },
    options.script,
  );
  return { ...server, baseUrl: server.origin };
}
