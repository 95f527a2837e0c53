import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository, SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { RecordedRequest, ScriptedReply } from '../../src/scripted-model/types.js';
import { captureOutput } from '../support/capture-output.js';
import { scriptedBrain } from '../support/scripted-brain.js';
import { scriptedLlm, stubModelEnv } from '../support/scripted-llm.js';
import { tempDir } from '../support/temp-dir.js';

afterEach(() => vi.unstubAllEnvs());

const MAX_ANSWER_BYTES = 256 * 1024;

/** A model that passes the probe and then answers the planner without end. */
async function runawayPlanner(endless: NonNullable<ScriptedReply['endless']>, timeoutMs: number, retries: number) {
  const brain = scriptedBrain({ plan: [], agents: {} });
  const isPlan = (request: RecordedRequest) => request.body.response_format?.json_schema?.name === 'plan';
  const { server } = await scriptedLlm((request) => (isPlan(request) ? { endless } : brain.reply(request)));
  const root = await tempDir('fanout-runaway-');
  await createRepository(root, { ...SAMPLE_FILES, '.github/fanout.yml': 'maxAgents: 2\n' });
  stubModelEnv(server.baseUrl, `${root}/.state`);
  vi.stubEnv('FANOUT_LLM_TIMEOUT_MS', String(timeoutMs));
  vi.stubEnv('FANOUT_LLM_IDLE_TIMEOUT_MS', '10000');
  vi.stubEnv('FANOUT_LLM_MAX_ANSWER_BYTES', String(MAX_ANSWER_BYTES));
  vi.stubEnv('FANOUT_LLM_MAX_RETRIES', String(retries));
  const planRequests = () => server.requests.filter(isPlan);
  return { server, repo: root, planRequests };
}

describe('a planner answer that never ends', () => {
  it('streaming one byte at a time: the run fails at FANOUT_LLM_TIMEOUT_MS, naming the cause', async () => {
    // Never silent long enough for the idle limit; the probe's quick answers fit the timeout.
    const { server, repo, planRequests } = await runawayPlanner({ pieceChars: 1, everyMs: 50 }, 2_500, 0);
    const output = captureOutput();
    const code = await main(['run', '--repo', repo, '--json', 'Add a greeting'], output);
    expect(code).toBe(1);
    const report = JSON.parse(output.stdout());
    expect(report.state).toBe('failed');
    expect(report.error).toContain('did not finish its answer within 2500 ms (FANOUT_LLM_TIMEOUT_MS)');
    // The request really ended.
    await server.endlessEnded();
    expect(planRequests().map((request) => request.sent?.closedByClient)).toEqual([true]);
  });

  it('streaming megabytes as fast as it can: the run fails at FANOUT_LLM_MAX_ANSWER_BYTES after one retry, the connection cut', async () => {
    const { server, repo, planRequests } = await runawayPlanner({ pieceChars: 64 * 1024, everyMs: 0 }, 30_000, 1);
    const output = captureOutput();
    const code = await main(['run', '--repo', repo, '--json', 'Add a greeting'], output);
    expect(code).toBe(1);
    const report = JSON.parse(output.stdout());
    expect(report.state).toBe('failed');
    expect(report.error).toContain(
      `sent an answer larger than ${MAX_ANSWER_BYTES} bytes (FANOUT_LLM_MAX_ANSWER_BYTES)`,
    );
    await server.endlessEnded();
    // Asked twice (FANOUT_LLM_MAX_RETRIES=1), each answer cut off.
    const sent = planRequests().map((request) => request.sent!);
    expect(sent).toHaveLength(2);
    for (const answer of sent) {
      expect(answer.closedByClient).toBe(true);
      // The cap plus what the kernel's socket buffers took in: Fanout never read the rest.
      expect(answer.bytes).toBeLessThan(16 * 1024 * 1024);
    }
  });
});
