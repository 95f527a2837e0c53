import { Probot } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { fanoutOctokitClass } from '../../src/adapters/forge/github/octokit-class.js';
import { FakeGitHub } from '../support/fake-github/fake-github.js';

let fake: FakeGitHub | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("the App's Octokit", () => {
  it('waits out a secondary rate limit and repeats the call, instead of failing it', async () => {
    fake = await FakeGitHub.start();
    await fake.createRepository('octo', 'hello');
    fake.failNext({
      method: 'GET',
      path: '/repos/octo/hello',
      status: 403,
      headers: { 'retry-after': '5' },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
    });
    // The production class, with GitHub's `retry-after` read as milliseconds instead of seconds.
    const Octokit = fanoutOctokitClass({ retryAfterBaseValue: 1 });
    const probot = new Probot({
      appId: fake.appId,
      privateKey: fake.privateKey,
      baseUrl: fake.url,
      Octokit,
      logLevel: 'fatal',
    });
    const octokit = await probot.auth(1);
    const { status } = await octokit.rest.repos.get({ owner: 'octo', repo: 'hello' });
    expect(status).toBe(200);
    expect(fake.callsTo('GET', '/repos/octo/hello').map((call) => call.status)).toEqual([403, 200]);
  });
});
