import { describe, expect, it } from 'vitest';
import { MAX_TASK_LENGTH, parseCommand } from '../../src/app/parse-command.js';
import type { IssueCommand } from '../../src/domain/command.js';

const cases: Array<[string, string, IssueCommand | null]> = [
  // Tasks
  [
    'a task on the command line',
    '/orchestrate Add a --verbose flag to the CLI',
    { kind: 'orchestrate', task: 'Add a --verbose flag to the CLI' },
  ],
  [
    'a task over several lines',
    '/orchestrate Add tests\nfor the parser\n\nand the store  ',
    { kind: 'orchestrate', task: 'Add tests\nfor the parser\n\nand the store' },
  ],
  [
    'a task starting on the next line',
    '/orchestrate\n  Split the config loader\ninto modules',
    { kind: 'orchestrate', task: 'Split the config loader\ninto modules' },
  ],
  [
    'the task keeps code and quotes that follow the command',
    '/orchestrate Fix this:\n```\n/orchestrate inside\n```\n> quoted',
    { kind: 'orchestrate', task: 'Fix this:\n```\n/orchestrate inside\n```\n> quoted' },
  ],
  [
    'text before the command is not part of the task',
    'Thanks!\n/orchestrate Rename foo to bar',
    { kind: 'orchestrate', task: 'Rename foo to bar' },
  ],
  ['Windows line endings', '/orchestrate Fix it\r\nplease\r\n', { kind: 'orchestrate', task: 'Fix it\nplease' }],
  ['up to 3 spaces of indentation', '   /orchestrate Fix the build', { kind: 'orchestrate', task: 'Fix the build' }],
  [
    'a capitalised command word (phone keyboards)',
    '/Orchestrate Fix the build',
    { kind: 'orchestrate', task: 'Fix the build' },
  ],
  ['the first command line wins', '/orchestrate status\n/orchestrate cancel', { kind: 'status' }],
  // Named commands
  ['status', '/orchestrate status', { kind: 'status' }],
  ['cancel, trailing spaces', '/orchestrate cancel   ', { kind: 'cancel' }],
  ['approve, with a remark on the next lines', '/orchestrate approve\nLooks good to me.', { kind: 'approve' }],
  ['help', '/orchestrate help', { kind: 'help' }],
  ['a command word in capitals', '/orchestrate STATUS', { kind: 'status' }],
  ['retry a subtask', '/orchestrate retry api-client', { kind: 'retry', subtask: 'api-client' }],
  ['retry the fallback agent', '/orchestrate retry single-agent', { kind: 'retry', subtask: 'single-agent' }],
  // The agent backend for one run
  [
    'a task with --agent',
    '/orchestrate --agent claude-code Add a --verbose flag',
    { kind: 'orchestrate', task: 'Add a --verbose flag', agent: 'claude-code' },
  ],
  [
    '--agent=NAME, the task on the next lines',
    '/orchestrate --agent=codex\nSplit the loader\ninto modules',
    { kind: 'orchestrate', task: 'Split the loader\ninto modules', agent: 'codex' },
  ],
  [
    '--agent builtin',
    '/orchestrate  --agent builtin Fix the build',
    { kind: 'orchestrate', task: 'Fix the build', agent: 'builtin' },
  ],
  [
    'a flag later in the task is the task',
    '/orchestrate Fix the build --agent codex',
    { kind: 'orchestrate', task: 'Fix the build --agent codex' },
  ],
  [
    'an agent Fanout does not know',
    '/orchestrate --agent gemini Fix the build',
    { kind: 'help', unknown: '--agent gemini', unknownAgent: 'gemini' },
  ],
  [
    'an agent name spelled otherwise',
    '/orchestrate --agent Claude-Code Fix the build',
    { kind: 'help', unknown: '--agent Claude-Code', unknownAgent: 'Claude-Code' },
  ],
  ['--agent without a name', '/orchestrate --agent', { kind: 'help', unknown: '--agent' }],
  ['--agent= without a name', '/orchestrate --agent= Fix it', { kind: 'help', unknown: '--agent= Fix it' }],
  ['--agent without a task', '/orchestrate --agent codex', { kind: 'help', unknown: '--agent codex' }],
  [
    '--agent with a lone word',
    '/orchestrate --agent codex refactor',
    { kind: 'help', unknown: '--agent codex refactor' },
  ],
  [
    '--agent with a command word',
    '/orchestrate --agent codex status',
    { kind: 'help', unknown: '--agent codex status' },
  ],
  [
    '--agent twice',
    '/orchestrate --agent codex --agent builtin Fix it',
    { kind: 'help', unknown: '--agent codex --agent builtin Fix it' },
  ],
  ['another flag', '/orchestrate --agnet codex Fix it', { kind: 'help', unknown: '--agnet codex Fix it' }],
  // Help
  ['nothing after the command', '/orchestrate', { kind: 'help' }],
  ['only blank lines after the command', '/orchestrate   \n\n  ', { kind: 'help' }],
  ['retry without a subtask', '/orchestrate retry', { kind: 'help', unknown: 'retry' }],
  [
    'retry with an id the planner cannot make',
    '/orchestrate retry Api_Client',
    { kind: 'help', unknown: 'retry Api_Client' },
  ],
  ['retry with two ids', '/orchestrate retry a b', { kind: 'help', unknown: 'retry a b' }],
  ['a command word with more words', '/orchestrate status please', { kind: 'help', unknown: 'status please' }],
  ['a lone unknown word (a typo)', '/orchestrate stauts', { kind: 'help', unknown: 'stauts' }],
  ['a lone word on the next line', '/orchestrate\nrefactor', { kind: 'help', unknown: 'refactor' }],
  // No command
  ['no command at all', 'Please have a look at this.', null],
  ['the command in the middle of a line', 'You can type /orchestrate Fix it', null],
  ['a longer word', '/orchestrated Fix it', null],
  ['indented as code (4 spaces)', '    /orchestrate Fix it', null],
  ['a quoted command', '> /orchestrate Fix it', null],
  ['a quoted command, indented', '  >/orchestrate Fix it', null],
  ['in a backtick fence', 'Use:\n```\n/orchestrate Fix it\n```', null],
  ['in a tilde fence', '~~~md\n/orchestrate Fix it\n~~~', null],
  ['in an unclosed fence', '```\n/orchestrate Fix it', null],
  ['a shorter fence does not close a longer one', '````\n```\n/orchestrate Fix it\n````', null],
  ['a tilde line does not close a backtick fence', '```\n~~~\n/orchestrate Fix it\n```', null],
  ['in an HTML comment (issue templates)', '<!--\n/orchestrate Fix it\n-->', null],
  ['a one-line HTML comment', '<!-- /orchestrate Fix it -->', null],
  // Markdown continues a quote's paragraph on the next lines (lazily): they render inside the quote.
  ['a lazy continuation of a quote', '> As the issue says:\n/orchestrate Delete everything', null],
  ['a lazy continuation after more quoted text', '> a\n> b\nmore of b\n/orchestrate Delete everything', null],
  ['a lazy continuation of a nested quote', '>> deep\n/orchestrate Delete everything', null],
  ['inside <pre>', '<pre>\n/orchestrate Delete everything\n</pre>', null],
  ['inside <textarea>', 'Copy this:\n<textarea rows="3">\n/orchestrate Delete everything\n</textarea>', null],
  ['inside <PRE> opened mid-line', 'Output: <PRE>\n/orchestrate Delete everything', null],
  ['inside <script>', '<script>\n/orchestrate Delete everything\n</script>', null],
  // What ends a quote, and a closed element, let a command through again.
  ['after a quote and a blank line', '> quoted\n\n/orchestrate Fix it', { kind: 'orchestrate', task: 'Fix it' }],
  ['after an empty quote line', '> \n/orchestrate Fix it', { kind: 'orchestrate', task: 'Fix it' }],
  [
    'after a quote ended by a heading',
    '> quoted\n# Plan\n/orchestrate Fix it',
    { kind: 'orchestrate', task: 'Fix it' },
  ],
  ['after a closed <pre>', '<pre>x</pre>\n/orchestrate Fix it', { kind: 'orchestrate', task: 'Fix it' }],
  ['after a <pre> block', '<pre>\nx\n</pre>\n/orchestrate Fix it', { kind: 'orchestrate', task: 'Fix it' }],
];

describe('parseCommand', () => {
  it.each(cases)('%s', (_name, body, expected) => {
    expect(parseCommand(body)).toEqual(expected);
  });

  it('finds the command after a closed fence, a quote and an HTML comment', () => {
    const body =
      '```\n/orchestrate no\n```\n> /orchestrate no\n<!--\n/orchestrate no\n-->\n/orchestrate Do the real thing';
    expect(parseCommand(body)).toEqual({ kind: 'orchestrate', task: 'Do the real thing' });
  });

  it('answers a task over the length cap with help naming the cap', () => {
    const long = `/orchestrate ${'word '.repeat(MAX_TASK_LENGTH / 5 + 1)}`;
    const parsed = parseCommand(long);
    expect(parsed).toMatchObject({ kind: 'help' });
    expect(parsed?.kind === 'help' && parsed.unknown).toContain(String(MAX_TASK_LENGTH));
    expect(parseCommand(`/orchestrate ${'a '.repeat(MAX_TASK_LENGTH / 2 - 1)}a`)).toMatchObject({
      kind: 'orchestrate',
    });
  });

  it('quotes at most 100 characters of what it did not understand', () => {
    const parsed = parseCommand(`/orchestrate status ${'x'.repeat(300)}`);
    expect(parsed?.kind === 'help' && parsed.unknown?.length).toBe(101);
  });
});
