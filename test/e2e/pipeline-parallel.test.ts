import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { loadDotEnv } from '../../src/config/dotenv.js';
import type { ScriptedReply } from '../../src/scripted-model/types.js';
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
