import { join } from 'node:path';
import { Probot, ProbotOctokit } from 'probot';
import { loadEnv } from '../../src/config/env.js';
import { SAMPLE_FILES } from '../../src/demo/sample-repo.js';
import type { GitHubTarget } from '../../src/domain/command.js';
import { createFanoutApp, type FanoutApp } from '../../src/main-app.js';
import type { Script } from '../../src/scripted-model/types.js';
import { FakeGitHub } from './fake-github/fake-github.js';
import { APP_BOT, type FakeRole } from './fake-github/state.js';
import { scriptedLlm } from './scripted-llm.js';
import { tempDir } from './temp-dir.js';
import { startWebhookServer, WEBHOOK_SECRET, type WebhookServer } from './webhook-client.js';
import { example } from './webhook-examples.js';

export const OWNER = 'octo';
export const REPO = 'hello';

export interface AppHarness {
  /** Where the App keeps its state (and its model answers): what workers of the same deployment share. */
  model: { baseUrl: string };
  root: string;
  fake: FakeGitHub;
  app: FanoutApp;
  webhooks: WebhookServer;
  issue: number;
  target: GitHubTarget;
  /** Delivers an `/orchestrate` comment on the issue, written by `sender`. */
  comment(body: string, sender?: string): Promise<{ status: number; payload: Record<string, unknown>; id: string }>;
  /** Delivers any event, the payload patched to name the fake repository and installation. */
  deliver(
    event: string,
    payload: Record<string, unknown>,
    delivery?: { id?: string },
  ): Promise<{ status: number; id: string }>;
  /** Waits until Fanout has done everything the deliveries so far asked for. */
  settle(): Promise<void>;
  /** Fanout's comments on the issue, oldest first. */
  issueComments(): string[];
  close(): Promise<void>;
}

/**
 * The whole App as it runs, against a fake GitHub (REST and git over HTTP, one bare repository
 * per repository) and a scripted model: real Probot receiving signed example deliveries, the
 * intake, the background queue, and the pipeline with the GitHub forge.
 */
export async function appHarness(options: {
  script: Script;
  files?: Record<string, string>;
  roles?: Record<string, FakeRole>;
  /** More environment for the App (REDIS_URL: the intake queues jobs for workers). */
  env?: Record<string, string>;
}): Promise<AppHarness> {
  const fake = await FakeGitHub.start();
  await fake.createRepository(OWNER, REPO, {
    defaultBranch: 'main',
    files: withoutCiGrace({ ...SAMPLE_FILES, ...options.files }),
  });
  for (const [login, role] of Object.entries({ maintainer: 'admin', reader: 'read', ...options.roles } as Record<
    string,
    FakeRole
  >))
    fake.setRole(OWNER, REPO, login, role);
  const issue = fake.createIssue(OWNER, REPO, 'Split this');
  const { server: model } = await scriptedLlm(options.script);
  const root = await tempDir('fanout-app-');
  const env = loadEnv({
    FANOUT_STATE_DIR: join(root, 'state'),
    FANOUT_SANDBOX: 'none',
    FANOUT_ALLOW_ROOT_NONE: '1',
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'test-key',
    FANOUT_MODEL: 'scripted-model',
    WEBHOOK_SECRET,
    TMPDIR: root,
    ...options.env,
  });
  // Retries and throttling off: an unexpected failure must show, not be retried away.
  const Octokit = ProbotOctokit.defaults((defaults: Record<string, unknown>) => ({
    ...defaults,
    retry: { enabled: false },
    throttle: { enabled: false },
  }));
  const probot = new Probot({
    appId: fake.appId,
    privateKey: fake.privateKey,
    secret: WEBHOOK_SECRET,
    baseUrl: fake.url,
    Octokit,
    logLevel: 'fatal',
  });
  const errors: unknown[] = [];
  const app = createFanoutApp(env, {
    probot,
    appId: fake.appId,
    appSlug: 'fanout',
    statusDebounceMs: 10,
    log: (_message, error) => errors.push(error),
  });
  const webhooks = await startWebhookServer(app.appFn, fake.appId);
  const htmlUrl = `https://github.com/${OWNER}/${REPO}`;
  const target: GitHubTarget = {
    owner: OWNER,
    repo: REPO,
    installationId: 1,
    cloneUrl: fake.cloneUrl(OWNER, REPO),
    htmlUrl,
    defaultBranch: 'main',
  };
  const repository = (payload: Record<string, unknown>) => {
    const original = (payload.repository ?? {}) as Record<string, unknown>;
    const owner = { ...(original.owner as Record<string, unknown>), login: OWNER };
    return {
      ...payload,
      repository: {
        ...original,
        owner,
        name: REPO,
        full_name: `${OWNER}/${REPO}`,
        clone_url: target.cloneUrl,
        html_url: htmlUrl,
        default_branch: 'main',
      },
    };
  };
  return {
    model,
    root,
    fake,
    app,
    webhooks,
    issue,
    target,
    async comment(body, sender = 'maintainer') {
      const payload = example('issue_comment', (candidate) => candidate.action === 'created') as unknown as Record<
        string,
        unknown
      >;
      const user = { ...(payload.sender as Record<string, unknown>), login: sender, type: 'User' };
      const issueFields = { ...(payload.issue as Record<string, unknown>), number: issue };
      delete (issueFields as { pull_request?: unknown }).pull_request;
      const id = 9_000_000 + Math.floor(Math.random() * 1_000_000);
      const now = new Date().toISOString();
      // The comment exists on GitHub before its webhook arrives.
      fake.repo(OWNER, REPO).comments.push({ id, issue, body, user: sender, createdAt: now, updatedAt: now });
      const comment = {
        ...(payload.comment as Record<string, unknown>),
        id,
        body,
        user,
        performed_via_github_app: null,
      };
      const delivered = repository({ ...payload, issue: issueFields, comment, sender: user });
      return { ...(await webhooks.deliver('issue_comment', delivered)), payload: delivered };
    },
    deliver: (event, payload, delivery = {}) => webhooks.deliver(event, repository(payload), delivery),
    async settle() {
      await app.queue.idle();
      if (errors.length > 0)
        throw new Error(
          `background work failed: ${errors.map((error) => (error instanceof Error ? error.stack : String(error))).join('\n')}`,
        );
    },
    issueComments: () =>
      fake
        .repo(OWNER, REPO)
        .comments.filter((comment) => comment.issue === issue && comment.user === APP_BOT)
        .map((comment) => comment.body),
    async close() {
      await app.queue.idle();
      await webhooks.close();
      await app.close();
      const unexpected = [...fake.unexpected];
      await fake.close();
      if (unexpected.length > 0)
        throw new Error(`the fake GitHub got calls it does not implement: ${unexpected.join(', ')}`);
    },
  };
}

/**
 * The fake's repositories have no CI: unless a test sets `waitForChecksSeconds` itself, Fanout is
 * told not to wait for CI to appear (the default grace would hold every merge for a minute).
 */
function withoutCiGrace(files: Record<string, string>): Record<string, string> {
  const config = files['.github/fanout.yml'] ?? '';
  if (/^waitForChecksSeconds:/m.test(config)) return files;
  const separator = config === '' || config.endsWith('\n') ? '' : '\n';
  return { ...files, '.github/fanout.yml': `${config}${separator}waitForChecksSeconds: 0\n` };
}
