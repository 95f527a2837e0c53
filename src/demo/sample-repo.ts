import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files of the demo's sample project: a tiny CLI with a library, tests and glue files. */
export const SAMPLE_FILES: Readonly<Record<string, string>> = {
  'package.json': `${JSON.stringify({ name: 'greeter', version: '1.0.0', type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  'README.md': '# greeter\n\nSays hello from the command line.\n',
  'CHANGELOG.md': '# Changelog\n\n## 1.0.0\n- First release.\n',
  'src/cli.js': "import { greet } from './greet.js';\n\nconst name = process.argv[2];\nconsole.log(greet(name));\n",
  'src/greet.js': 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n',
  'src/index.js': "export { greet } from './greet.js';\n",
  'test/greet.test.js':
    "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { greet } from '../src/greet.js';\n\ntest('greets by name', () => {\n  assert.equal(greet('Ada'), 'Hello, Ada!');\n});\n",
  '.github/fanout.yml':
    'validate:\n  - run: node --test\n    timeoutSeconds: 120\nmaxAgents: 4\nmaxSubtasks: 4\napproval: auto\n',
};

/** Creates a git repository at `dir` holding `files` in one commit on `main`. */
export async function createRepository(
  dir: string,
  files: Readonly<Record<string, string>> = SAMPLE_FILES,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const git = (...args: string[]) =>
    run('git', args, {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        GIT_AUTHOR_NAME: 'Sample',
        GIT_AUTHOR_EMAIL: 'sample@example.com',
        GIT_COMMITTER_NAME: 'Sample',
        GIT_COMMITTER_EMAIL: 'sample@example.com',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
      },
    });
  await git('init', '--quiet', '--initial-branch=main');
  await git('add', '--all');
  await git('commit', '--quiet', '--no-verify', '-m', 'Initial commit');
}
