import type { ChatMessage } from '../ports/llm.js';

const TRIMMED_PREVIEW = 160;
const LONG_ARGUMENT = 400;

/**
 * The prompt actually sent: the system message and the task stay whole, the newest tool results
 * stay whole, and older tool results and long tool-call arguments (file contents already
 * written) shrink to a short note. The prompt after 50 steps is then not many times the prompt
 * after 10. The full history is kept in the loop; only the copy sent is trimmed.
 */
export function trimConversation(messages: readonly ChatMessage[], keepRecentToolResults: number): ChatMessage[] {
  const toolPositions = messages.flatMap((message, position) => (message.role === 'tool' ? [position] : []));
  const cutoff =
    toolPositions.length > keepRecentToolResults
      ? (toolPositions[toolPositions.length - keepRecentToolResults] as number)
      : 0;
  return messages.map((message, position) => {
    if (position >= cutoff || position < 2) return message;
    if (message.role === 'tool' && message.content.length > TRIMMED_PREVIEW) {
      return {
        ...message,
        content: `${message.content.slice(0, TRIMMED_PREVIEW)}… [older output trimmed, ${message.content.length} characters; call the tool again if you need it]`,
      };
    }
    if (message.role === 'assistant' && message.toolCalls?.some((call) => call.arguments.length > LONG_ARGUMENT)) {
      return {
        ...message,
        toolCalls: message.toolCalls.map((call) => ({ ...call, arguments: shrinkArguments(call.arguments) })),
      };
    }
    return message;
  });
}

/** Keeps the argument object valid JSON while replacing long string values with their length. */
function shrinkArguments(raw: string): string {
  if (raw.length <= LONG_ARGUMENT) return raw;
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const shrunk = Object.fromEntries(
      Object.entries(parsed).map(([key, value]) => [
        key,
        typeof value === 'string' && value.length > 120 ? `[${value.length} characters, trimmed]` : value,
      ]),
    );
    return JSON.stringify(shrunk);
  } catch {
    return JSON.stringify({ trimmed: `${raw.length} characters` });
  }
}
