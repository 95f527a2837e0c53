import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecordedRequest, ScriptedReply } from '../src/scripted-model/types.js';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const GIT_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'b',
  GIT_AUTHOR_EMAIL: 'b@b',
  GIT_COMMITTER_NAME: 'b',
  GIT_COMMITTER_EMAIL: 'b@b',
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'gc.auto',
  GIT_CONFIG_VALUE_0: '0',
};

/** Runs git for benchmark set-up (plain, not Fanout's hardened runner). */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** A repository with `count` small files in 100 directories, one commit. */
export async function largeRepository(dir: string, count: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let d = 0; d < 100; d += 1) {
    await mkdir(join(dir, `src/module${d}`), { recursive: true });
    await Promise.all(
      Array.from({ length: count / 100 }, (_, f) =>
        writeFile(join(dir, `src/module${d}/file${f}.ts`), `export const value${f} = ${d * 1000 + f};\n`),
      ),
    );
  }
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'add', '--all');
  await git(dir, 'commit', '--quiet', '-m', 'init');
}

/**
 * A scripted model for whole runs: passes the probe, plans `agents` parts, and plays agents that
 * each write one file (`out/<prefix><n>.txt`) and finish: two model calls, no command.
 */
export function writeFilesModel(agents: number, prefix = '') {
  return (request: RecordedRequest): ScriptedReply => {
    const body = request.body;
    if (body.tools?.some((tool) => tool.function.name === 'record_sum'))
      return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
    if (body.response_format?.json_schema?.name === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
    if (body.response_format?.json_schema?.name === 'plan') {
      const subtasks = Array.from({ length: agents }, (_, n) => ({
        id: `part-${n}`,
        title: `Part ${n}`,
        instructions: `Write out/${prefix}${n}.txt`,
        writeScope: [`out/${prefix}${n}.txt`],
        readScope: [],
        dependsOn: [],
      }));
      return { content: JSON.stringify({ subtasks }) };
    }
    const n = /Your subtask: Part (\d+)/.exec(body.messages.find((m) => m.role === 'user')?.content ?? '')?.[1];
    const turn = body.messages.filter((m) => m.role === 'assistant').length;
    return turn === 0
      ? { toolCalls: [{ name: 'write_file', arguments: { path: `out/${prefix}${n}.txt`, content: `part ${n}\n` } }] }
      : { toolCalls: [{ name: 'finish', arguments: { summary: 'done' } }] };
  };
}
