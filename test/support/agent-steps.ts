import { isAbsolute, join } from 'node:path';
import { startScriptedAnthropicServer } from '../../src/scripted-model/anthropic-server.js';
import { anthropicToolResults, type AnthropicMessagesBody } from '../../src/scripted-model/anthropic-wire.js';
import { SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import { addFilePatch, replaceFilePatch } from '../../src/scripted-model/patches.js';
import { startScriptedResponsesServer } from '../../src/scripted-model/responses-server.js';
import { responsesToolOutputs } from '../../src/scripted-model/responses-wire.js';
import { startScriptedServer } from '../../src/scripted-model/server.js';
import { answer, toolCall, type ScriptedTurn } from '../../src/scripted-model/turns.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';

/**
 * What an agent does next, whatever its backend: each backend's model server turns it into its
 * own wire format and tool names (the built-in agent's `write_file`, Claude Code's `Write`...).
 */
export type AgentStep =
  | { write: string; content: string }
  | { run: string }
  | { read: string }
  /** Ends the session with this summary. */
  | { answer: string }
  /** The model starts answering and then says nothing more (the connection stays open). */
  | { stall: true };

/** A step and the tokens its model call reports. */
export type ScriptedStep = AgentStep & { usage?: { input: number; output: number } };

/** A scripted model server that plays abstract steps, one per model call, and says what it was sent. */
export interface StepServer {
  /** The gateway's upstreams (the one this server does not speak goes nowhere). */
  upstreams: { openai: string; anthropic: string };
  /** The steps the next agent's model calls get, in order (then it answers "Done."). */
  play(steps: ScriptedStep[]): void;
  /** Each model request's body as sent since `play`, for what the model was shown. */
  sent(): string[];
  /** The tool results the model got back since `play`, in order, each once. */
  toolResults(): Array<{ text: string; isError?: boolean }>;
  close(): Promise<void>;
}

const NOWHERE = 'http://127.0.0.1:9';

/** A scripted OpenAI chat-completions server playing Fanout's own tools (the built-in agent, the stand-in CLI). */
export async function openAiChatSteps(): Promise<StepServer> {
  let queue: ScriptedStep[] = [];
  let from = 0;
  const server = await startScriptedServer({ script: () => chatReply(queue.shift() ?? { answer: 'Done.' }) });
  const requests = () => server.requests.slice(from);
  return {
    upstreams: { openai: server.baseUrl, anthropic: NOWHERE },
    play: (steps) => {
      queue = [...steps];
      from = server.requests.length;
    },
    sent: () => requests().map((request) => JSON.stringify(request.body)),
    toolResults: () => {
      const seen = new Map<string, { text: string }>();
      for (const request of requests())
        for (const message of request.body.messages)
          if (message.role === 'tool' && message.tool_call_id && !seen.has(message.tool_call_id))
            seen.set(message.tool_call_id, { text: message.content ?? '' });
      return [...seen.values()];
    },
    close: () => server.close(),
  };
}

function chatReply(step: ScriptedStep): ScriptedReply {
  const usage = step.usage ? { usage: { promptTokens: step.usage.input, completionTokens: step.usage.output } } : {};
  const call = (name: string, args: Record<string, unknown>): ScriptedReply => ({
    toolCalls: [{ name, arguments: args }],
    ...usage,
  });
  if ('write' in step) return call('write_file', { path: step.write, content: step.content });
  if ('run' in step) return call('run_command', { command: step.run });
  if ('read' in step) return call('read_file', { path: step.read });
  if ('answer' in step) return call('finish', { summary: step.answer });
  return { hang: true };
}

/** A scripted Anthropic messages server playing Claude Code's tools, with absolute paths as Claude uses them. */
export async function anthropicSteps(): Promise<StepServer> {
  let queue: ScriptedStep[] = [];
  let from = 0;
  const server = await startScriptedAnthropicServer({
    script: (call) => claudeTurn(queue.shift() ?? { answer: 'Done.' }, workingDirectory(call.body)),
  });
  const requests = () => server.requests.slice(from);
  return {
    upstreams: { openai: NOWHERE, anthropic: server.baseUrl },
    play: (steps) => {
      queue = [...steps];
      from = server.requests.length;
    },
    sent: () => requests().map((request) => JSON.stringify(request.body)),
    toolResults: () => {
      const seen = new Map<string, { text: string; isError: boolean }>();
      for (const request of requests())
        for (const result of anthropicToolResults(request.body))
          if (!seen.has(result.toolUseId)) seen.set(result.toolUseId, { text: result.text, isError: result.isError });
      return [...seen.values()];
    },
    close: () => server.close(),
  };
}

function claudeTurn(step: ScriptedStep, cwd: string | null): ScriptedTurn {
  const usage = step.usage ? { usage: { inputTokens: step.usage.input, outputTokens: step.usage.output } } : {};
  const path = (relative: string) => (cwd && !isAbsolute(relative) ? join(cwd, relative) : relative);
  if ('write' in step) return toolCall('Write', { file_path: path(step.write), content: step.content }, usage);
  if ('run' in step) return toolCall('Bash', { command: step.run }, usage);
  if ('read' in step) return toolCall('Read', { file_path: path(step.read) }, usage);
  if ('answer' in step) return answer(step.answer, usage);
  return { text: 'Let me think about this.', stallAfterEvents: 3 };
}

/** The working directory Claude Code tells its model about (its environment block). */
function workingDirectory(body: AnthropicMessagesBody): string | null {
  return /Primary working directory: ([^\s\\"]+)/.exec(JSON.stringify(body.messages))?.[1] ?? null;
}

/**
 * A scripted OpenAI Responses server playing Codex's tools: writes as `apply_patch` (a whole-file
 * replacement of what the file holds, as far as this script knows, else an added file), commands
 * and reads as `exec_command`.
 */
export async function responsesSteps(): Promise<StepServer> {
  let queue: ScriptedStep[] = [];
  let from = 0;
  // What each file holds for the agent: the sample repository's, then what it wrote.
  let contents = new Map<string, string>(Object.entries(SAMPLE_FILES));
  const server = await startScriptedResponsesServer({ script: () => codexTurn(queue.shift() ?? { answer: 'Done.' }) });
  const codexTurn = (step: ScriptedStep): ScriptedTurn => {
    const usage = step.usage ? { usage: { inputTokens: step.usage.input, outputTokens: step.usage.output } } : {};
    if ('write' in step) {
      const before = contents.get(step.write);
      contents.set(step.write, step.content);
      const patch =
        before === undefined
          ? addFilePatch(step.write, step.content)
          : replaceFilePatch(step.write, before, step.content);
      return toolCall('apply_patch', patch, usage);
    }
    if ('run' in step) return toolCall('exec_command', { cmd: step.run }, usage);
    if ('read' in step) return toolCall('exec_command', { cmd: `cat ${step.read}` }, usage);
    if ('answer' in step) return answer(step.answer, usage);
    return { text: 'Let me think about this.', stallAfterEvents: 3 };
  };
  const requests = () => server.requests.slice(from);
  return {
    upstreams: { openai: server.baseUrl, anthropic: NOWHERE },
    play: (steps) => {
      queue = [...steps];
      from = server.requests.length;
      contents = new Map(Object.entries(SAMPLE_FILES));
    },
    sent: () => requests().map((request) => JSON.stringify(request.body)),
    toolResults: () => {
      const seen = new Map<string, { text: string }>();
      for (const request of requests())
        for (const output of responsesToolOutputs(request.body))
          if (!seen.has(output.callId)) seen.set(output.callId, { text: output.text });
      return [...seen.values()];
    },
    close: () => server.close(),
  };
}
