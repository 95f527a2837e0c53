import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RecordedRequest, ScriptedReply } from '../../src/scripted-model/types.js';
import { appHarness, type AppHarness } from '../support/app-harness.js';

/** Passes the probe, then answers the planner with an error: the run fails planning at once. */
function failingPlanner(request: RecordedRequest): ScriptedReply {
  const schema = request.body.response_format?.json_schema?.name;
  if (request.body.tools?.some((tool) => tool.function.name === 'record_sum'))
    return { toolCalls: [{ name: 'record_sum', arguments: { a: 17, b: 25, sum: 42 } }] };
  if (schema === 'probe_answer') return { content: '{"word":"fanout","letters":6}' };
  return { error: { status: 400, message: 'context length exceeded' } };
}

let harness: AppHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('commands that come in a burst', () => {
  it('starts one run for 10 /orchestrate comments at once, even when that run ends before the rest is processed, and answers once', async () => {
    const h = (harness = await appHarness({ script: failingPlanner }));
    const store = h.app.store;
    let reactions = 0;
    // The first command waits until all ten are stored; every later one until the first run has
    // ended: processed then, a command that only checks "is a run still working?" starts another.
    h.fake.beforeRoute = async (method, url) => {
      if (method !== 'POST' || !url.pathname.endsWith('/reactions')) return;
      reactions += 1;
      if (reactions === 1)
        await vi.waitFor(async () => expect(await store.listCommands()).toHaveLength(10), { timeout: 20_000 });
      else
        await vi.waitFor(async () => expect((await store.listRuns()).map((run) => run.state)).toContain('failed'), {
          timeout: 20_000,
        });
    };

    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => h.comment(`/orchestrate Write file number ${n}`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    await h.settle();

    const runs = await store.listRuns();
    expect(runs).toHaveLength(1);
    // The run's status comment and its failure report, and one answer for the other nine.
    const comments = h.issueComments();
    expect(comments).toHaveLength(3);
    expect(comments.filter((comment) => comment.includes('already working'))).toEqual([
      expect.stringContaining(
        `Run \`${runs[0]!.id}\` was already working on this issue when this command arrived, so it started nothing`,
      ),
    ]);
    const commands = await store.listCommands();
    expect(commands.map((command) => command.state).sort()).toEqual(['done', ...Array(9).fill('refused')]);
    expect(commands.filter((command) => command.posted === false)).toHaveLength(8);
  });
});

describe('a run that fails planning', () => {
  it('says so once on the issue, without the model endpoint', async () => {
    const h = (harness = await appHarness({ script: failingPlanner }));
    const endpoint = new URL(h.model.baseUrl);

    await h.comment('/orchestrate Write two files');
    await h.settle();

    const comments = h.issueComments();
    expect(comments[0]).toContain('❌ Failed');
    for (const comment of comments) {
      expect(comment).toContain('context length exceeded');
      expect(comment.match(/Planning failed/g)).toHaveLength(1);
      expect(comment).not.toContain(endpoint.host);
      expect(comment).not.toContain(h.model.baseUrl);
    }
    // The server's own records keep the detail.
    expect((await h.app.store.listRuns())[0]!.error).toContain(endpoint.host);
  });
});
