import type {
  ContentBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import type { ChatMessage, ChatRequest, ChatResult, ToolCall, ToolSpec } from '../../ports/llm.js';

/** What an answer is made of, streamed or whole: its blocks, why it stopped, and its usage. */
export interface AnthropicAnswer {
  content: Array<
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: string } | { type: 'other' }
  >;
  stopReason: string | null;
  usage: {
    input_tokens?: number | null;
    output_tokens?: number | null;
    cache_read_input_tokens?: number | null;
    cache_creation_input_tokens?: number | null;
  } | null;
}

// The messages API requires a cap on every answer; far above a plan or a file written by a tool
// call, and within what every current Claude model can produce.
const DEFAULT_MAX_TOKENS = 16_384;

/** The request body for the messages API (without `stream`). */
export function toAnthropicBody(model: string, request: ChatRequest): MessageCreateParamsBase {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const tools = [...(request.tools ?? []).map(toAnthropicTool)];
  let toolChoice = request.toolChoice ? toAnthropicToolChoice(request.toolChoice) : undefined;
  // Structured output is a tool the model must call, its input schema the requested one: the
  // way Anthropic's API constrains an answer to a schema on every model.
  if (request.responseFormat) {
    tools.push({
      name: request.responseFormat.name,
      description: `Give your answer as the input of this tool: a JSON object matching the "${request.responseFormat.name}" schema.`,
      input_schema: objectSchema(request.responseFormat.schema),
    });
    toolChoice = { type: 'tool', name: request.responseFormat.name };
  }
  return {
    model,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: toAnthropicMessages(request.messages),
    ...(system ? { system } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice && tools.length > 0 ? { tool_choice: toolChoice } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
  };
}

/**
 * The conversation as the messages API takes it: system text apart, tool calls as `tool_use`
 * blocks of the assistant's turn, tool results as `tool_result` blocks of the next user turn.
 * Turns of one role in a row become one turn (the API wants them alternating).
 */
export function toAnthropicMessages(messages: readonly ChatMessage[]): MessageParam[] {
  const turns: Array<{ role: 'user' | 'assistant'; content: ContentBlockParam[] }> = [];
  const add = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        add('user', textBlocks(message.content));
        break;
      case 'tool':
        add('user', [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }]);
        break;
      case 'assistant':
        add('assistant', [
          ...textBlocks(message.content ?? ''),
          ...(message.toolCalls ?? []).map((call) => ({
            type: 'tool_use' as const,
            id: call.id,
            name: call.name,
            input: toolInput(call.arguments),
          })),
        ]);
        break;
    }
  }
  return turns;
}

/** The answer as the port's result; the structured-output tool's input becomes the content. */
export function fromAnthropicAnswer(answer: AnthropicAnswer, request: ChatRequest): ChatResult {
  const formatTool = request.responseFormat?.name;
  const text = answer.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
  const toolCalls: ToolCall[] = [];
  let structured: string | undefined;
  for (const block of answer.content) {
    if (block.type !== 'tool_use') continue;
    if (block.name === formatTool && structured === undefined) structured = block.input;
    else toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
  }
  const usage = answer.usage;
  return {
    // Without the tool call (a proxy that ignores tool_choice), the text is parsed and repaired.
    content: structured ?? (text !== '' ? text : null),
    toolCalls,
    finishReason: structured !== undefined ? 'stop' : finishReason(answer.stopReason),
    usage: usage
      ? {
          // Anthropic counts cached input apart from input; the port counts all input as prompt.
          promptTokens:
            (usage.input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0),
          completionTokens: usage.output_tokens ?? 0,
        }
      : null,
  };
}

/** The stop reason in the port's (OpenAI's) words where one matches. */
function finishReason(stopReason: string | null): string | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    default:
      return stopReason;
  }
}

// The API refuses empty text blocks.
function textBlocks(text: string): ContentBlockParam[] {
  return text === '' ? [] : [{ type: 'text', text }];
}

/** A tool call's arguments as the object the API wants; text that is no JSON object is kept under `input`. */
function toolInput(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Kept as text below.
  }
  return { input: text };
}

function toAnthropicTool(tool: ToolSpec): Tool {
  return { name: tool.name, description: tool.description, input_schema: objectSchema(tool.parameters) };
}

function objectSchema(schema: Record<string, unknown>): Tool['input_schema'] {
  return { ...schema, type: 'object' };
}

function toAnthropicToolChoice(choice: NonNullable<ChatRequest['toolChoice']>): ToolChoice {
  if (choice === 'required') return { type: 'any' };
  if (choice === 'auto' || choice === 'none') return { type: choice };
  return { type: 'tool', name: choice.name };
}
