import { responsesError, responsesResponse, responsesStreamEvents, type ResponsesBody } from './responses-wire.js';
import { startTurnServer, writeJson, writeSse, type TurnServer } from './turn-server.js';
import { estimateUsage, type TurnScript } from './turns.js';

export interface ScriptedResponsesOptions {
  script: TurnScript<ResponsesBody>;
  /** Model ids for GET /v1/models. */
  models?: string[];
}

/** A running fake OpenAI Responses endpoint. */
export interface ScriptedResponsesServer extends TurnServer<ResponsesBody> {
  /** Base URL ending in `/v1` (Codex's `model_providers.<id>.base_url`; clients append `/responses`). */
  baseUrl: string;
}

/**
 * Starts an OpenAI Responses API server on 127.0.0.1 that answers `POST /v1/responses` from a
 * script, streamed (SSE) or whole, with function_call and custom_tool_call items and usage;
 * `GET /v1/models` gets a list.
 */
export async function startScriptedResponsesServer(
  options: ScriptedResponsesOptions,
): Promise<ScriptedResponsesServer> {
  const models = options.models ?? ['scripted-model'];
  const server = await startTurnServer<ResponsesBody>(
    {
      isModelCall: (method, path) => method === 'POST' && path === '/v1/responses',
      writeTurn: (res, call, turn) => {
        const usage = turn.usage ?? estimateUsage(call.body, turn);
        if (!call.body.stream) return writeJson(res, 200, responsesResponse(call.body.model, turn, usage));
        writeSse(res, responsesStreamEvents(call.body.model, turn, usage), turn.stallAfterEvents);
      },
      writeError: (res, error) => {
        const headers: Record<string, string> =
          error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
        writeJson(res, error.status, responsesError(error.status, error.message), headers);
      },
      answerOther: (res, method, path) => {
        if (method !== 'GET' || path !== '/v1/models') return false;
        writeJson(res, 200, {
          object: 'list',
          data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' })),
        });
        return true;
      },
    },
    options.script,
  );
  return { ...server, baseUrl: `${server.origin}/v1` };
}
