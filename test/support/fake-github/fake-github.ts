import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appKeys } from './app-auth.js';
import { commitFiles, git, setBranch } from './git.js';
import { type ServerState, handleRequest } from './handle-request.js';
import { headOf } from './routes-pulls.js';
import { type CheckRunSeed, type ReviewSeed, seedCheckRun, seedReview } from './seed.js';
import {
  FAKE_APP_ID,
  type FakeRepo,
  type FakeRequirements,
  type FakeReviewComment,
  type FakeRole,
  type FakeStatus,
  type FaultSpec,
  type IssuedToken,
  type RecordedCall,
  type RecordedGitRequest,
  newRepo,
  nextIssueNumber,
} from './state.js';

/**
 * A small stateful GitHub on 127.0.0.1: the REST endpoints Fanout uses, installation tokens for a
 * test App, and git's smart HTTP protocol over real bare repositories (so pushes, PR heads and
 * merges are real git). Every REST call is recorded in `calls`, every git request in
 * `gitRequests`; a call it does not implement is answered 404 and listed in `unexpected`.
 */
export class FakeGitHub {
  readonly calls: RecordedCall[] = [];
  readonly gitRequests: RecordedGitRequest[] = [];
  readonly unexpected: string[] = [];
  readonly tokens: IssuedToken[] = [];
  readonly appId = FAKE_APP_ID;
  readonly privateKey = appKeys().privateKey;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly faults: FaultSpec[] = [];
  private readonly tokenLifetimes: number[] = [];
  private lastId = 1000;
  /** Awaited before each REST call is answered: a test acts at that very moment (a webhook mid-request). */
  beforeRoute: ((method: string, url: URL) => Promise<void>) | undefined;
  // What request handling reads and records into: the same arrays and map as the fields above.
  private readonly state: ServerState;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Bare repositories live at `<root>/<owner>/<repo>.git`. */
    readonly root: string,
  ) {
    this.state = {
      url,
      root,
      appId: this.appId,
      calls: this.calls,
      gitRequests: this.gitRequests,
      unexpected: this.unexpected,
      tokens: this.tokens,
      repos: this.repos,
      faults: this.faults,
      tokenLifetimes: this.tokenLifetimes,
      nextId: () => this.nextId(),
      beforeRoute: () => this.beforeRoute,
    };
  }

  /** Starts a fake on a free loopback port. */
  static async start(): Promise<FakeGitHub> {
    const root = await mkdtemp(join(tmpdir(), 'fake-github-'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeGitHub(server, `http://127.0.0.1:${port}`, root);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      handleRequest(fake.state, req, res).catch((error: unknown) => {
        fake.unexpected.push(`fake crashed on ${req.method} ${req.url}: ${String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ message: 'fake GitHub crashed' }));
      });
    });
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.root, { recursive: true, force: true });
  }

  /** Creates a repository whose default branch holds one commit of `files`. */
  async createRepository(
    owner: string,
    name: string,
    options: { defaultBranch?: string; files?: Record<string, string> } = {},
  ): Promise<FakeRepo> {
    const defaultBranch = options.defaultBranch ?? 'main';
    const dir = join(this.root, owner, `${name}.git`);
    await mkdir(dir, { recursive: true });
    await git(dir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`]);
    const first = await commitFiles(dir, null, options.files ?? { 'README.md': `# ${name}\n` }, 'Initial commit');
    await setBranch(dir, defaultBranch, first);
    const repo = newRepo(owner, name, dir, defaultBranch);
    this.repos.set(`${owner}/${name}`, repo);
    return repo;
  }

  repo(owner: string, name: string): FakeRepo {
    const repo = this.repos.get(`${owner}/${name}`);
    if (!repo) throw new Error(`the fake has no repository ${owner}/${name}`);
    return repo;
  }

  /** The URL git clones from, as a payload's `clone_url` would give it (served by this fake). */
  cloneUrl(owner: string, name: string): string {
    return `${this.url}/${owner}/${name}.git`;
  }

  /** A global git config mapping `https://github.com/` to the bare repositories (for `GIT_CONFIG_GLOBAL`). */
  async gitConfigFile(prefix = 'https://github.com/'): Promise<string> {
    const path = join(this.root, 'gitconfig');
    await writeFile(path, `[url "${this.root}/"]\n\tinsteadOf = ${prefix}\n`);
    return path;
  }

  createIssue(owner: string, name: string, title: string): number {
    const repo = this.repo(owner, name);
    const number = nextIssueNumber(repo);
    repo.issues.set(number, { title, isPull: false, labels: [] });
    return number;
  }

  setRole(owner: string, name: string, login: string, role: FakeRole): void {
    this.repo(owner, name).roles.set(login, role);
  }

  /**
   * A person's review on a PR (on its current head unless `commitId` is given), with optional text
   * and inline comments (`line` null: on the whole file). Submitting it answers a request for
   * their review, as on GitHub. Returns the review's id and its comments' ids, in order.
   */
  async addReview(
    owner: string,
    name: string,
    pull: number,
    review: ReviewSeed,
  ): Promise<{ id: number; commentIds: number[] }> {
    return seedReview(this.repo(owner, name), pull, review, () => this.nextId());
  }

  /** The inline review comments on a PR, replies included, oldest first. */
  reviewComments(owner: string, name: string, pull: number): FakeReviewComment[] {
    return this.repo(owner, name).reviewComments.filter((comment) => comment.pull === pull);
  }

  /** The replies in a PR's review threads (`inReplyTo` is the thread's first comment), oldest first. */
  replies(owner: string, name: string, pull: number): FakeReviewComment[] {
    return this.reviewComments(owner, name, pull).filter((comment) => comment.inReplyTo !== undefined);
  }

  /** Who is asked to review a PR and has not reviewed since. */
  requestedReviewers(owner: string, name: string, pull: number): string[] {
    return [...(this.repo(owner, name).pulls.get(pull)?.requestedReviewers ?? [])];
  }

  /** The label names on an issue or PR, in the order added. */
  labels(owner: string, name: string, issue: number): string[] {
    return [...(this.repo(owner, name).issues.get(issue)?.labels ?? [])];
  }

  /** A commit status from the repository's own CI. */
  addStatus(
    owner: string,
    name: string,
    sha: string,
    context: string,
    state: FakeStatus['state'],
    options: { description?: string } = {},
  ): void {
    this.repo(owner, name).statuses.push({
      id: this.nextId(),
      sha,
      context,
      state,
      ...options,
      createdAt: new Date().toISOString(),
    });
  }

  /**
   * A check run from another App (the repository's CI); returns its id. `appSlug: 'github-actions'`
   * makes it a GitHub Actions job (App id 15368 unless `appId` is given) whose `log` is served by
   * `GET /actions/jobs/{id}/logs`.
   */
  addCheckRun(owner: string, name: string, run: CheckRunSeed): number {
    return seedCheckRun(this.repo(owner, name), run, () => this.nextId());
  }

  /**
   * Classic branch protection on `branch`: the merge is refused (405) until these checks passed
   * and this many writers approved. "Get a branch" shows the required checks, not the reviews.
   */
  protectBranch(owner: string, name: string, branch: string, requires: Partial<FakeRequirements>): void {
    this.repo(owner, name).protection.set(branch, { requiredChecks: [], requiredApprovals: 0, ...requires });
  }

  /** A ruleset on `branch` requiring these checks and approving reviews ("Get rules for a branch" shows both). */
  addRuleset(owner: string, name: string, branch: string, requires: Partial<FakeRequirements>): void {
    this.repo(owner, name).rulesets.set(branch, { requiredChecks: [], requiredApprovals: 0, ...requires });
  }

  /** Another App's check suite on a head, queued before any check run (CI about to start). */
  addCheckSuite(owner: string, name: string, suite: { headSha: string; appSlug: string; appId?: number }): void {
    this.repo(owner, name).checkSuites.push({
      id: this.nextId(),
      headSha: suite.headSha,
      appId: suite.appId ?? 778,
      appSlug: suite.appSlug,
      appName: suite.appSlug,
      createdAt: new Date().toISOString(),
    });
  }

  /** A person closes a PR without merging it. */
  async closePullRequest(owner: string, name: string, pull: number): Promise<void> {
    const repo = this.repo(owner, name);
    const record = repo.pulls.get(pull);
    if (!record) throw new Error(`no pull request #${pull}`);
    await headOf(repo, record);
    record.state = 'closed';
  }

  /** The next request matching `spec` gets its fault (after doing the real work when `afterApplying`). */
  failNext(spec: FaultSpec): void {
    this.faults.push(spec);
  }

  /** The next installation token issued lives `ms` (then back to an hour). */
  nextTokenLifetime(ms: number): void {
    this.tokenLifetimes.push(ms);
  }

  /** The recorded REST calls with this method whose path matches. */
  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter(
      (call) => call.method === method && (typeof path === 'string' ? call.path === path : path.test(call.path)),
    );
  }

  private nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }
}
