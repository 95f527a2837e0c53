import { isAbsolute, join } from 'node:path';
import type { AnthropicMessagesBody } from '../scripted-model/anthropic-wire.js';
import { answer, toolCall, type RecordedCall, type ScriptedTurn } from '../scripted-model/turns.js';

import { CLI, CLI_TEST, GREET, SHOUT_TEST } from './demo-model.js';

type Step = (cwd: string) => ScriptedTurn;

const paced = { delayMs: 150 };
const read =
  (path: string): Step =>
  (cwd) =>
    toolCall('Read', { file_path: join(cwd, path) }, paced);
const write =
  (path: string, content: string): Step =>
  (cwd) =>
    toolCall('Write', { file_path: join(cwd, path), content }, paced);
const bash =
  (command: string): Step =>
  () =>
    toolCall('Bash', { command, description: 'Run the tests' }, paced);
const done =
  (summary: string): Step =>
  () =>
    answer(summary, paced);

// Each Claude Code session's turns, by subtask title, in Claude Code's own tools. The changelog
// agent reads the same file again and again: Fanout cancels it as looping, retries it once, and
// reports it (as the built-in demo does).
const SESSIONS: Record<string, Step[]> = {
  'Validate the CLI input': [
    read('src/cli.js'),
    write('src/cli.js', CLI),
    write('test/cli.test.js', CLI_TEST),
    bash('node --test'),
    done(
      'parseName() rejects a missing or blank name; the CLI exits with code 2 and "error: a name is required". Tests in test/cli.test.js.',
    ),
  ],
  'Add a shout option to greet': [
    read('src/greet.js'),
    // Out of scope: Fanout's hook refuses it while the session runs, and Claude goes on.
    write('README.md', '# greeter\n\nSays hello, or HELLO.\n'),
    write('src/greet.js', GREET),
    write('test/shout.test.js', SHOUT_TEST),
    done('greet(name, { shout: true }) upper-cases the greeting; default unchanged. Tests in test/shout.test.js.'),
  ],
  'Note the changes in the changelog': Array.from({ length: 6 }, () => read('CHANGELOG.md')),
};

/**
 * The scripted Anthropic model behind `fanout demo --agent claude-code` when no ANTHROPIC_API_KEY
 * is set: it plays each Claude Code session of the demo's plan by its subtask (sessions run side
 * by side, so the subtask and the turn come from what the request says, not from arrival order),
 * with absolute paths in the working directory Claude Code tells it about.
 */
export function demoClaudeModel(call: RecordedCall<AnthropicMessagesBody>): ScriptedTurn {
  const conversation = JSON.stringify(call.body.messages);
  const title = /Your subtask: (.+?)\\n/.exec(conversation)?.[1] ?? '';
  const cwd = /Primary working directory: ([^\s\\"]+)/.exec(conversation)?.[1];
  const steps = SESSIONS[title];
  if (!steps || !cwd || !isAbsolute(cwd)) return answer('I do not know this subtask.');
  const turn = call.body.messages.filter((message) => message.role === 'assistant').length;
  return steps[Math.min(turn, steps.length - 1)]!(cwd);
}
