import { Probot, ProbotOctokit } from 'probot';
import type { FakeGitHub } from './fake-github.js';

export type TestOctokit = InstanceType<typeof ProbotOctokit>;

/**
 * An installation Octokit as the App gets it from Probot, pointed at the fake: a real App JWT, a
 * real installation-token request, throttling off. Retry is off too, unless `retry` asks for
 * plugin-retry's real behaviour with near-zero waits (to show that a call turns it off itself).
 */
export async function fakeGitHubOctokit(
  fake: FakeGitHub,
  options: { installationId?: number; retry?: boolean } = {},
): Promise<TestOctokit> {
  // The function form: Probot's own throttle layer would put `enabled: true` back otherwise.
  const Octokit = ProbotOctokit.defaults((defaults: Record<string, unknown>) => ({
    ...defaults,
    retry: options.retry ? { enabled: true, retryAfterBaseValue: 1 } : { enabled: false },
    throttle: { enabled: false },
  }));
  const probot = new Probot({
    appId: fake.appId,
    privateKey: fake.privateKey,
    baseUrl: fake.url,
    Octokit,
    logLevel: 'fatal',
  });
  return probot.auth(options.installationId ?? 1);
}
