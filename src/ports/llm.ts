/** A tool the model may call: name, description and a JSON schema for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A tool call as the model sent it; `arguments` is the raw JSON text, parsed by whoever runs the tool. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** `required` forces a tool call; a name forces that tool. */
  toolChoice?: 'auto' | 'required' | 'none' | { name: string };
  /** Ask for JSON matching this schema (OpenAI `response_format: json_schema`; Anthropic: a forced tool call). */
  responseFormat?: { name: string; schema: Record<string, unknown> };
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResult {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string | null;
  /** Null when the endpoint reported no usage. */
  usage: TokenUsage | null;
}

/** The API an endpoint speaks: OpenAI-compatible chat completions, or Anthropic's messages. */
export type LlmProvider = 'openai' | 'anthropic';

/** Each provider as people read it (doctor, a run's first line). */
export const LLM_PROVIDER_NAMES: Readonly<Record<LlmProvider, string>> = {
  openai: 'OpenAI-compatible',
  anthropic: 'Anthropic',
};

/** Chat completions with tools and structured output against one endpoint and model. */
export interface Llm {
  readonly provider: LlmProvider;
  /** Base URL of the endpoint, for messages (never carries credentials). */
  readonly endpoint: string;
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResult>;
  /** The model ids the endpoint lists; null when the endpoint has no model list. */
  listModels(signal?: AbortSignal): Promise<string[] | null>;
}
