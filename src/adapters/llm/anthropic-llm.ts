import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';
import { LlmError } from '../../domain/errors.js';
import { SecretRedactor } from '../../domain/redactor.js';
import type { ChatRequest, ChatResult, Llm } from '../../ports/llm.js';
import { AnthropicStreamAssembler, answerOfMessage } from './anthropic-answer.js';
import { fromAnthropicAnswer, toAnthropicBody, type AnthropicAnswer } from './anthropic-messages.js';
import { AnswerOverrunError, boundedFetch } from './bounded-fetch.js';
import type { OpenAiLlmOptions } from './openai-llm.js';
import { displayEndpoint, endpointPassword, wrapLlmError, type LlmErrorContext } from './wrap-error.js';

const ERRORS: LlmErrorContext = {
  sdk: Anthropic,
  keyVariable: 'ANTHROPIC_API_KEY',
  baseUrlVariable: 'ANTHROPIC_BASE_URL',
};

/** The same bounds and retries as the OpenAI adapter; `baseUrl` is the origin (`https://api.anthropic.com`). */
export type AnthropicLlmOptions = OpenAiLlmOptions;

/**
 * The Llm port over Anthropic's messages API, via the official `@anthropic-ai/sdk`: tools as
 * `tool_use` / `tool_result` blocks, structured output as a forced tool call, every answer bounded
 * by time and bytes like the OpenAI adapter's.
 */
export class AnthropicLlm implements Llm {
  readonly provider = 'anthropic';
  readonly endpoint: string;
  readonly model: string;
  private readonly client: Anthropic;
  /** Knows this adapter's own credentials: endpoints echo the key in error bodies. */
  private readonly redactor: SecretRedactor;

  constructor(private readonly options: AnthropicLlmOptions) {
    this.endpoint = displayEndpoint(options.baseUrl);
    this.redactor = new SecretRedactor([options.apiKey, endpointPassword(options.baseUrl)]);
    this.model = options.model;
    // Every setting is given, so the SDK reads no ANTHROPIC_* variable and no profile on disk.
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
      // Given, it also spares the SDK's refusal of long non-streamed answers (its own estimate).
      timeout: options.timeoutMs,
      maxRetries: options.maxRetries,
      fetch: boundedFetch(
        { timeoutMs: options.timeoutMs, maxBytes: options.maxAnswerBytes },
        `model "${options.model}" at ${this.endpoint}`,
      ),
    });
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    // The SDK retries what fails before the body; an answer cut off in its body is retried here.
    for (let retriesLeft = this.options.maxRetries; ; retriesLeft -= 1) {
      try {
        return fromAnthropicAnswer(await this.answer(toAnthropicBody(this.model, request), request.signal), request);
      } catch (error) {
        if (!(error instanceof AnswerOverrunError) || retriesLeft <= 0 || request.signal?.aborted) throw error;
      }
    }
  }

  async listModels(signal?: AbortSignal): Promise<string[] | null> {
    try {
      const ids: string[] = [];
      for await (const model of this.client.models.list({}, { signal })) ids.push(model.id);
      return ids;
    } catch (error) {
      if (error instanceof Anthropic.NotFoundError) return null;
      throw wrapLlmError(error, this.endpoint, this.model, this.redactor, ERRORS);
    }
  }

  /** One answer, with the SDK's own retries for what fails before it starts. */
  private async answer(body: MessageCreateParamsBase, signal: AbortSignal | undefined): Promise<AnthropicAnswer> {
    try {
      if (this.options.stream) return await this.streamAnswer(body, signal);
      const message = await this.client.messages.create({ ...body, stream: false }, { signal });
      const answer = answerOfMessage(message);
      if (!answer) throw this.badAnswer('answered with something other than a message');
      return answer;
    } catch (error) {
      throw wrapLlmError(error, this.endpoint, this.model, this.redactor, ERRORS);
    }
  }

  private async streamAnswer(body: MessageCreateParamsBase, signal: AbortSignal | undefined): Promise<AnthropicAnswer> {
    const idle = new AbortController();
    const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), this.options.idleTimeoutMs);
    };
    try {
      // Until the answer starts, the request timeout applies (a long prompt can take a while);
      // once it streams, silence longer than the idle limit means it is stuck.
      const stream = await this.client.messages.create({ ...body, stream: true }, { signal: combined });
      arm();
      const assembler = new AnthropicStreamAssembler();
      for await (const event of stream) {
        arm();
        assembler.push(event);
      }
      // An aborted stream ends its iteration quietly; a cut-off answer must not pass as whole.
      if (combined.aborted) throw combined.reason ?? new Error('aborted');
      if (!assembler.complete()) throw this.badAnswer('ended its stream before the message did (no message_stop)');
      return assembler.result();
    } catch (error) {
      if (idle.signal.aborted && !signal?.aborted) {
        throw new LlmError(
          'llm-timeout',
          `The model "${this.model}" at ${this.endpoint} sent nothing for ${this.options.idleTimeoutMs} ms in the middle of an answer.`,
          undefined,
          { cause: error },
        );
      }
      if (signal?.aborted) {
        throw new LlmError(
          'llm-aborted',
          `The request to model "${this.model}" at ${this.endpoint} was cancelled.`,
          undefined,
          { cause: error },
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** An answer that is no usable message: the endpoint's fault, not a turn the agent took. */
  private badAnswer(what: string): LlmError {
    return new LlmError('llm-bad-response', `The model "${this.model}" at ${this.endpoint} ${what}.`);
  }
}
