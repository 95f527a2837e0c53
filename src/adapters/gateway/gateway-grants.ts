import type { ModelCallReport, ModelGrant, ModelGrantRequest, ModelGrants } from '../../ports/model-grants.js';
import type { GatewayCallEvent } from './call-event.js';
import type { ModelGateway } from './model-gateway.js';
import { GATEWAY_PATHS, TOOL_USE_HOOK_PATH } from './routes.js';

/** The pipeline's ModelGrants port over a running gateway: one credential per agent attempt. */
export class GatewayGrants implements ModelGrants {
  constructor(private readonly gateway: ModelGateway) {}

  async grant(request: ModelGrantRequest): Promise<ModelGrant> {
    const onCall = request.onCall;
    const credential = this.gateway.issue({
      runId: request.runId,
      subtaskId: request.subtaskId,
      attempt: request.attempt,
      ...(request.budget ? { budget: request.budget } : {}),
      ...(request.prices ? { prices: request.prices } : {}),
      ...(onCall ? { onCall: (event: GatewayCallEvent) => onCall(callReport(event)) } : {}),
      ...(request.onToolUse ? { onToolUse: request.onToolUse } : {}),
    });
    return {
      access: {
        model: request.model,
        credential: credential.token,
        origin: this.gateway.origin,
        ...(credential.socket ? { socketPath: credential.socket.path } : {}),
        paths: { openai: GATEWAY_PATHS.openai, anthropic: GATEWAY_PATHS.anthropic, toolUseHook: TOOL_USE_HOOK_PATH },
      },
      revoke: async () => {
        this.gateway.revoke(credential.token);
      },
    };
  }
}

/** A gateway call event as the pipeline records it: tokens in, tokens out (cached ones counted in). */
function callReport(event: GatewayCallEvent): ModelCallReport {
  return {
    model: event.model,
    usage: event.usage ? { promptTokens: event.usage.inputTokens, completionTokens: event.usage.outputTokens } : null,
    costUsd: event.costUsd,
    status: event.status,
    ...(event.refusal ? { refusal: event.refusal.message } : {}),
  };
}
