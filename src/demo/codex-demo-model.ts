import { SAMPLE_FILES } from './sample-repo.js';
import { CLI, CLI_TEST, GREET, SHOUT_TEST } from './demo-model.js';
import { startOpenAiFront } from '../scripted-model/openai-front.js';
import { addFilePatch, replaceFilePatch } from '../scripted-model/patches.js';
import { startScriptedResponsesServer } from '../scripted-model/responses-server.js';
import { responsesAnswerCount, responsesUserTexts, type ResponsesBody } from '../scripted-model/responses-wire.js';
import { answer, toolCall, type RecordedCall, type ScriptedTurn } from '../scripted-model/turns.js';

// The model Codex asks for (its backend's default, which Codex knows).
const CODEX_DEMO_MODEL = 'gpt-5.5';

const run = (cmd: string) => toolCall('exec_command', { cmd }, { delayMs: 150 });
const patch = (text: string) => toolCall('apply_patch', text, { delayMs: 150 });

// Each Codex agent's turns, by subtask title: the same work as the built-in agent's demo, with
// Codex's tools (patches and shell commands). The changelog agent lists the directory over and
// over, as the built-in one does: Fanout cancels it as looping, retries it once, and reports it.
const AGENT_TURNS: Record<string, ScriptedTurn[]> = {
  'Validate the CLI input': [
    run('cat src/cli.js'),
    patch(replaceFilePatch('src/cli.js', SAMPLE_FILES['src/cli.js']!, CLI)),
    patch(addFilePatch('test/cli.test.js', CLI_TEST)),
    run('node --test'),
    answer(
      'parseName() rejects a missing or blank name; the CLI exits with code 2 and "error: a name is required". Tests in test/cli.test.js.',
    ),
  ],
  'Add a shout option to greet': [
    run('cat src/greet.js'),
    patch(replaceFilePatch('src/greet.js', SAMPLE_FILES['src/greet.js']!, GREET)),
    patch(addFilePatch('test/shout.test.js', SHOUT_TEST)),
    answer('greet(name, { shout: true }) upper-cases the greeting; default unchanged. Tests in test/shout.test.js.'),
  ],
  'Note the changes in the changelog': Array.from({ length: 6 }, () => run('ls -a')),
};

/**
 * The scripted model Codex talks to in `fanout demo --agent codex` when no API key is set (the
 * OpenAI Responses API; the planner keeps the chat model of `demoModel`). Concurrent agents'
 * requests interleave, so each is answered by its subtask and how far its history has got.
 */
export function codexDemoModel(call: RecordedCall<ResponsesBody>): ScriptedTurn {
  const prompt = responsesUserTexts(call.body).join('\n');
  const title = /Your subtask: (.+)/.exec(prompt)?.[1]?.trim() ?? '';
  const turns = AGENT_TURNS[title];
  if (!turns) return answer('I do not know this subtask.');
  return turns[Math.min(responsesAnswerCount(call.body), turns.length - 1)]!;
}

/**
 * The demo's one OpenAI base URL when Codex plays the agents: the scripted chat server at
 * `chatOrigin` for the planner, and a scripted Responses server playing `codexDemoModel`.
 */
export async function startCodexDemoEndpoint(chatOrigin: string): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const responses = await startScriptedResponsesServer({ script: codexDemoModel, models: [CODEX_DEMO_MODEL] });
  const front = await startOpenAiFront({ chat: chatOrigin, responses: responses.origin });
  return {
    baseUrl: front.baseUrl,
    close: async () => {
      await front.close();
      await responses.close();
    },
  };
}
