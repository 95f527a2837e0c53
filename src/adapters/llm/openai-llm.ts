import OpenAI from 'openai';
import type {
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import { LlmError } from '../../domain/errors.js';
import { SecretRedactor } from '../../domain/redactor.js';
import type { ChatMessage, ChatRequest, ChatResult, Llm, ToolSpec } from '../../ports/llm.js';
import { AnswerOverrunError, boundedFetch } from './bounded-fetch.js';
import { StreamAssembler, type StreamChunk } from './stream-assembler.js';
import { displayEndpoint, endpointPassword, wrapLlmError, type LlmErrorContext } from './wrap-error.js';

const ERRORS: LlmErrorContext = { sdk: OpenAI, keyVariable: 'OPENAI_API_KEY', baseUrlVariable: 'OPENAI_BASE_URL' };

export interface OpenAiLlmOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  /** Per answer: from the request to the answer's last byte, its whole stream included. */
  timeoutMs: number;
  /** Per answer: bytes of its body; past them the request is cut off. */
  maxAnswerBytes: number;
  /**
   * Retries on connection errors, 408, 409, 429 and 5xx, with the SDK's exponential backoff; and
   * on an answer cut off by its bounds (a runaway answer is seldom repeated).
   */
  maxRetries: number;
  /** Abort a streamed answer when no piece arrives for this long. */
  idleTimeoutMs: number;
  stream: boolean;
}

/** The Llm port over any OpenAI-compatible chat-completions endpoint, via the `openai` package. */
export class OpenAiLlm implements Llm {
  readonly provider = 'openai';
  readonly endpoint: string;
  readonly model: string;
  private readonly client: OpenAI;
  /** Knows this adapter's own credentials: endpoints echo the key in error bodies. */
  private readonly redactor: SecretRedactor;

  constructor(private readonly options: OpenAiLlmOptions) {
    this.endpoint = displayEndpoint(options.baseUrl);
    this.redactor = new SecretRedactor([options.apiKey, endpointPassword(options.baseUrl)]);
    this.model = options.model;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseUrl,
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
        return await this.answer(request);
      } catch (error) {
        if (!(error instanceof AnswerOverrunError) || retriesLeft <= 0 || request.signal?.aborted) throw error;
      }
    }
  }

  /** One answer, with the SDK's own retries for what fails before it starts. */
  private async answer(request: ChatRequest): Promise<ChatResult> {
    const body = {
      model: this.model,
      messages: request.messages.map(toWireMessage),
      ...(request.tools && request.tools.length > 0 ? { tools: request.tools.map(toWireTool) } : {}),
      ...(request.toolChoice ? { tool_choice: toWireToolChoice(request.toolChoice) } : {}),
      ...(request.responseFormat
        ? {
            response_format: {
              type: 'json_schema' as const,
              json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema, strict: false },
            },
          }
        : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    };
    try {
      if (!this.options.stream) {
        const completion = await this.client.chat.completions.create(
          { ...body, stream: false },
          { signal: request.signal },
        );
        const assembler = new StreamAssembler();
        // The types promise choices; a proxy or a broken server can send none, or another body.
        const choice = (completion.choices as typeof completion.choices | undefined)?.[0];
        if (!choice) throw this.emptyAnswer();
        assembler.push({
          choices: [
            {
              index: 0,
              delta: {
                content: choice?.message.content ?? null,
                tool_calls: (choice?.message.tool_calls ?? []).flatMap((call, index) =>
                  call.type === 'function' ? [{ index, id: call.id, function: call.function }] : [],
                ),
              },
              finish_reason: choice?.finish_reason ?? null,
            },
          ],
          usage: completion.usage ?? null,
        });
        return assembler.result();
      }
      return await this.streamChat(body, request.signal);
    } catch (error) {
      throw wrapLlmError(error, this.endpoint, this.model, this.redactor, ERRORS);
    }
  }

  /** An answer with no choice in it: the endpoint's fault, not a turn the agent took. */
  private emptyAnswer(): LlmError {
    return new LlmError(
      'llm-bad-response',
      `The model "${this.model}" at ${this.endpoint} answered without a choice (an empty or malformed response body).`,
    );
  }

  async listModels(signal?: AbortSignal): Promise<string[] | null> {
    try {
      const ids: string[] = [];
      for await (const model of this.client.models.list({ signal })) ids.push(model.id);
      return ids;
    } catch (error) {
      if (error instanceof OpenAI.NotFoundError) return null;
      throw wrapLlmError(error, this.endpoint, this.model, this.redactor, ERRORS);
    }
  }

  private async streamChat(
    body: Omit<OpenAI.Chat.ChatCompletionCreateParamsStreaming, 'stream'>,
    signal: AbortSignal | undefined,
  ): Promise<ChatResult> {
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
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal: combined },
      );
      arm();
      const assembler = new StreamAssembler();
      let choices = 0;
      for await (const chunk of stream) {
        arm();
        choices += (chunk as StreamChunk).choices?.length ?? 0;
        assembler.push(chunk as StreamChunk);
      }
      // An aborted stream can end its iteration quietly; a cut-off answer must not pass as whole.
      if (combined.aborted) throw combined.reason ?? new Error('aborted');
      if (choices === 0) throw this.emptyAnswer();
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
}

function toWireMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls && message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function' as const,
                function: { name: call.name, arguments: call.arguments },
              })),
            }
          : {}),
      };
  }
}

function toWireTool(tool: ToolSpec): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

function toWireToolChoice(choice: NonNullable<ChatRequest['toolChoice']>): ChatCompletionToolChoiceOption {
  if (typeof choice === 'string') return choice;
  return { type: 'function', function: { name: choice.name } };
}
