import type { ChatCompletionBody, RecordedRequest, ScriptedReply } from '../scripted-model/types.js';

/** The demo's task on the sample repository. */
export const DEMO_RUN_TASK =
  'Validate the CLI input (a missing or blank name exits with code 2 and a clear message), add a shout option to greet, and note both in the changelog. Cover the code with tests.';

/** src/cli.js as the demo's agents write it (the built-in one and Claude Code's alike). */
export const CLI = `import { greet } from './greet.js';

/** The name from the command line; throws when it is missing or blank. */
export function parseName(argv) {
  const name = (argv[0] ?? '').trim();
  if (!name) throw new Error('a name is required');
  return name;
}

if (import.meta.url === \`file://\${process.argv[1]}\`) {
  try {
    console.log(greet(parseName(process.argv.slice(2))));
  } catch (error) {
    console.error(\`error: \${error.message}\`);
    process.exit(2);
  }
}
`;

/** test/cli.test.js as the demo's agents write it. */
export const CLI_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseName } from '../src/cli.js';

test('rejects a missing name', () => assert.throws(() => parseName([]), /a name is required/));
test('rejects a blank name', () => assert.throws(() => parseName(['  ']), /a name is required/));
test('accepts a name', () => assert.equal(parseName(['Ada']), 'Ada'));
`;

/** src/greet.js as the demo's agents write it. */
export const GREET = `export function greet(name, options = {}) {
  const text = \`Hello, \${name}!\`;
  return options.shout ? text.toUpperCase() : text;
}
`;

/** test/shout.test.js as the demo's agents write it. */
export const SHOUT_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { greet } from '../src/greet.js';

test('shouts when asked', () => assert.equal(greet('Ada', { shout: true }), 'HELLO, ADA!'));
test('speaks normally by default', () => assert.equal(greet('Ada'), 'Hello, Ada!'));
`;

const PLAN = {
  subtasks: [
    {
      id: 'cli-validation',
      title: 'Validate the CLI input',
      instructions:
        'In src/cli.js export parseName(argv) that rejects a missing or blank name with "a name is required"; the CLI exits with code 2 and prints "error: ..." then. Add test/cli.test.js.',
      writeScope: ['src/cli.js', 'test/cli.test.js'],
      readScope: ['src/greet.js'],
      dependsOn: [],
    },
    {
      id: 'shout',
      title: 'Add a shout option to greet',
      instructions:
        'Give greet(name, options) an optional { shout: true } that upper-cases the greeting. Add test/shout.test.js.',
      writeScope: ['src/greet.js', 'test/shout.test.js'],
      readScope: ['src/index.js'],
      dependsOn: [],
    },
    {
      id: 'changelog',
      title: 'Note the changes in the changelog',
      instructions: 'Add an "Unreleased" section to CHANGELOG.md listing the input validation and the shout option.',
      writeScope: ['CHANGELOG.md'],
      readScope: [],
      dependsOn: [],
    },
  ],
};

const call = (name: string, args: Record<string, unknown>): ScriptedReply => ({
  toolCalls: [{ name, arguments: args }],
  delayMs: 150,
});

// Each agent's turns, by subtask title. The changelog agent re-lists the root directory, the
// seed's failure: Fanout hints, cancels it as looping, retries it once, and reports it.
const AGENT_TURNS: Record<string, ScriptedReply[]> = {
  'Validate the CLI input': [
    call('read_file', { path: 'src/cli.js' }),
    call('write_file', { path: 'src/cli.js', content: CLI }),
    call('write_file', { path: 'test/cli.test.js', content: CLI_TEST }),
    call('run_command', { command: 'node --test' }),
    call('finish', {
      summary:
        'parseName() rejects a missing or blank name; the CLI exits with code 2 and "error: a name is required". Tests in test/cli.test.js.',
    }),
  ],
  'Add a shout option to greet': [
    call('read_file', { path: 'src/greet.js' }),
    call('write_file', { path: 'src/greet.js', content: GREET }),
    call('write_file', { path: 'test/shout.test.js', content: SHOUT_TEST }),
    call('finish', {
      summary: 'greet(name, { shout: true }) upper-cases the greeting; default unchanged. Tests in test/shout.test.js.',
    }),
  ],
  'Note the changes in the changelog': Array.from({ length: 6 }, () => call('list_directory', { path: '.' })),
};

/**
 * The scripted model behind `fanout demo` when no API key is set: passes the capability probe,
 * plans three subtasks, and plays each agent by its subtask. Requests from agents running in
 * parallel interleave, so answers are chosen by what the request says, not by arrival order.
 */
export function demoModel(request: RecordedRequest): ScriptedReply {
  const body = request.body;
  const schema = body.response_format?.json_schema?.name;
  if (body.tools?.some((tool) => tool.function.name === 'record_sum'))
    return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
  if (schema === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
  if (schema === 'plan') return { content: JSON.stringify(PLAN), delayMs: 300 };
  const title = /Your subtask: (.+)/.exec(firstUserMessage(body))?.[1]?.trim() ?? '';
  const turns = AGENT_TURNS[title];
  if (!turns) return { content: 'I do not know this subtask.' };
  const turn = body.messages.filter((message) => message.role === 'assistant').length;
  return turns[Math.min(turn, turns.length - 1)] as ScriptedReply;
}

function firstUserMessage(body: ChatCompletionBody): string {
  return body.messages.find((message) => message.role === 'user')?.content ?? '';
}
