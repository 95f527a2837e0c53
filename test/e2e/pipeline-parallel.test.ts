import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { loadDotEnv } from '../../src/config/dotenv.js';
import { executeRun } from '../../src/orchestrate/execute-run.js';
import { startRun } from '../../src/orchestrate/start-run.js';
import type { RecordedRequest, ScriptedReply } from '../../src/scripted-model/types.js';
import { call, finish } from '../support/agent-replies.js';
import { pipelineHarness, whyNot } from '../support/pipeline-harness.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { tempDir } from '../support/temp-dir.js';

const exec = promisify(execFile);
// Each agent's turns take a while, so agents that run at once are seen overlapping.
const slowWrite = (path: string): ScriptedReply[] => [
  call('write_file', { path, content: `${path}\n` }, { delayMs: 400 }),
  finish(`Wrote ${path}.`),
];

/** The most subtasks whose agents ran at the same moment, from their recorded start and end. */
function mostAtOnce(intervals: Array<{ start: number; end: number }>): number {
  const points = intervals.flatMap(({ start, end }) => [
    { at: start, change: 1 },
    { at: end, change: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  points.sort((a, b) => a.at - b.at || a.change - b.change);
  let current = 0;
  let most = 0;
  for (const point of points) {
    current += point.change;
    most = Math.max(most, current);
  }
  return most;
}

describe('the pipeline runs agents side by side', () => {
  it('runs agents in parallel, never more than maxAgents at once', async () => {
    const plan = ['a', 'b', 'c', 'd'].map((id) => ({ id, title: `Part ${id}`, writeScope: [`${id}.txt`] }));
    const brain = scriptedBrain({
      plan,
      agents: Object.fromEntries(plan.map((subtask) => [subtask.title, slowWrite(`${subtask.id}.txt`)])),
    });
    const h = await pipelineHarness(brain.reply, { config: 'validate: []\nmaxAgents: 2\n' });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    const records = await h.deps.store.listSubtasks(report.runId);
    const intervals = records.map((record) => ({
      start: Date.parse(record.startedAt!),
      end: Date.parse(record.finishedAt!),
    }));
    expect(mostAtOnce(intervals)).toBe(2);
  });

  it('merges the finished front of the plan while later agents still run, in plan order', async () => {
    const plan = [
      { id: 'a', title: 'Part a', writeScope: ['a.txt'] },
      { id: 'b', title: 'Part b', writeScope: ['b.txt'] },
    ];
    const brain = scriptedBrain({ plan, agents: { 'Part a': slowWrite('a.txt'), 'Part b': slowWrite('b.txt') } });
    let runId = '';
    let aMergedFirst = false;
    // b's agent holds its first answer until a has merged: that happens only if merges start
    // while agents still run (else it gives up after 20 s, and a merges after b).
    const script = async (request: RecordedRequest): Promise<ScriptedReply> => {
      const first = request.body.messages.find((message) => message.role === 'user')?.content ?? '';
      const opening = !request.body.messages.some((message) => message.role === 'assistant');
      if (opening && first.includes('Your subtask: Part b')) {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && !aMergedFirst) {
          aMergedFirst = (await h.deps.store.getSubtask(runId, 'a'))?.merge?.state === 'merged';
          if (!aMergedFirst) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      return brain.reply(request);
    };
    const h = await pipelineHarness(script, { config: 'validate: []\nmaxAgents: 2\n' });
    const started = await startRun(h.deps, { repoDir: h.repo, task: 'Write two files', config: h.config });
    runId = started.id;
    const report = await executeRun(h.deps, started.id);
    expect(report.state, whyNot(report)).toBe('succeeded');
    expect(aMergedFirst).toBe(true);
    const subjects = (await exec('git', ['log', '--format=%s', 'main'], { cwd: h.repo })).stdout.split('\n');
    expect(subjects.slice(0, 2)).toEqual([expect.stringMatching(/^Part b/), expect.stringMatching(/^Part a/)]);
  });

  it('records each check for the exact head it validated, and merges that head', async () => {
    const plan = [{ id: 'a', title: 'Part a', writeScope: ['a.txt'] }];
    const brain = scriptedBrain({ plan, agents: { 'Part a': slowWrite('a.txt') } });
    const h = await pipelineHarness(brain.reply, { config: 'validate:\n  - node --test\n' });
    const report = await h.run();
    expect(report.state, whyNot(report)).toBe('succeeded');
    const record = (await h.deps.store.getSubtask(report.runId, 'a'))!;
    const head = (await exec('git', ['rev-parse', record.branch!], { cwd: h.repo })).stdout.trim();
    expect(record.commit).toBe(head);
    expect(record.pr?.headSha).toBe(head);
    expect(record.check?.headSha).toBe(head);
    const forge = new LocalForge(h.repo, h.stateDir);
    const pr = await forge.getPullRequest(record.pr!.number);
    expect(pr.headSha).toBe(head);
    // The merged tree is the validated head's (one commit on the base, the PR's change).
    expect((await exec('git', ['diff', '--name-only', `${head}`, 'main'], { cwd: h.repo })).stdout.trim()).toBe('');
  });
});

describe('.env', () => {
  it('fills in what the environment does not set; the environment wins', async () => {
    const dir = await tempDir('fanout-dotenv-');
    await writeFile(join(dir, '.env'), 'FANOUT_MODEL=from-dotenv\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n');
    const target: NodeJS.ProcessEnv = { FANOUT_MODEL: 'from-environment' };
    expect(loadDotEnv(dir, target)).toEqual(['OPENAI_BASE_URL']);
    expect(target).toEqual({ FANOUT_MODEL: 'from-environment', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  });
});
