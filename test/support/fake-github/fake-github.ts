import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appKeys, credentialOf, issueToken, verifyAppJwt } from './app-auth.js';
import { commitFiles, git, setBranch } from './git.js';
import { serveGitHttp } from './git-http.js';
import { type Answer, type RepoRoute, json, matchRoute } from './router.js';
import { checkRoutes } from './routes-checks.js';
import { issueRoutes } from './routes-issues.js';
import { headOf, pullRoutes } from './routes-pulls.js';
import { reviewRoutes } from './routes-reviews.js';
import {
  ACTIONS_APP_ID,
  APP_BOT,
  FAKE_APP_ID,
  type FakeAnnotation,
  type FakeCheckRun,
  type FakeRepo,
  type FakeReview,
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

const ROUTES: RepoRoute[] = [...pullRoutes, ...reviewRoutes, ...checkRoutes, ...issueRoutes];
const JOB_LOG_DOWNLOAD = /^\/_downloads\/([^/]+)\/([^/]+)\/job-logs\/(\d+)$/;
const HOUR = 3_600_000;

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

  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Bare repositories live at `<root>/<owner>/<repo>.git`. */
    readonly root: string,
  ) {}

  /** Starts a fake on a free loopback port. */
  static async start(): Promise<FakeGitHub> {
    const root = await mkdtemp(join(tmpdir(), 'fake-github-'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeGitHub(server, `http://127.0.0.1:${port}`, root);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch((error: unknown) => {
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
    review: {
      user: string;
      state: FakeReview['state'];
      commitId?: string;
      body?: string;
      comments?: ReadonlyArray<{ path: string; line: number | null; body: string }>;
    },
  ): Promise<{ id: number; commentIds: number[] }> {
    const repo = this.repo(owner, name);
    const record = repo.pulls.get(pull);
    if (!record) throw new Error(`no pull request #${pull}`);
    const now = new Date().toISOString();
    const added: FakeReview = {
      id: this.nextId(),
      pull,
      user: review.user,
      state: review.state,
      body: review.body ?? '',
      commitId: review.commitId ?? (await headOf(repo, record)),
      submittedAt: now,
    };
    repo.reviews.push(added);
    const comments = (review.comments ?? []).map((comment): FakeReviewComment => ({
      id: this.nextId(),
      pull,
      reviewId: added.id,
      path: comment.path,
      line: comment.line,
      body: comment.body,
      user: review.user,
      commitId: added.commitId,
      createdAt: now,
      updatedAt: now,
    }));
    repo.reviewComments.push(...comments);
    record.requestedReviewers = record.requestedReviewers.filter((login) => login !== review.user);
    return { id: added.id, commentIds: comments.map((comment) => comment.id) };
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
  addCheckRun(
    owner: string,
    name: string,
    run: {
      name: string;
      headSha: string;
      status: 'queued' | 'in_progress' | 'completed';
      conclusion?: string;
      appId?: number;
      appSlug?: string;
      output?: { title: string; summary: string; text?: string };
      annotations?: FakeAnnotation[];
      log?: string;
    },
  ): number {
    const now = new Date().toISOString();
    const added: FakeCheckRun = {
      id: this.nextId(),
      name: run.name,
      headSha: run.headSha,
      status: run.status,
      conclusion: run.conclusion ?? null,
      output: {
        title: run.output?.title ?? null,
        summary: run.output?.summary ?? null,
        text: run.output?.text ?? null,
      },
      appId: run.appId ?? (run.appSlug === 'github-actions' ? ACTIONS_APP_ID : 777),
      ...(run.appSlug !== undefined ? { appSlug: run.appSlug } : {}),
      ...(run.annotations ? { annotations: run.annotations.map((annotation) => ({ ...annotation })) } : {}),
      ...(run.log !== undefined ? { log: run.log } : {}),
      startedAt: now,
      completedAt: run.status === 'completed' ? now : null,
    };
    this.repo(owner, name).checkRuns.push(added);
    return added.id;
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

  private validToken(value: string): IssuedToken | null {
    return this.tokens.find((token) => token.token === value && token.expiresAt > Date.now()) ?? null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    // A GitHub Enterprise Server serves its REST API under /api/v3 (GHE_HOST points processes here).
    if (url.pathname.startsWith('/api/v3/')) url.pathname = url.pathname.slice('/api/v3'.length);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    if (/^\/[^/]+\/[^/]+\.git\//.test(url.pathname)) return this.handleGit(req, res, url, raw);
    const download = JOB_LOG_DOWNLOAD.exec(url.pathname);
    if (download && method === 'GET')
      return this.serveJobLog(
        res,
        decodeURIComponent(download[1] ?? ''),
        decodeURIComponent(download[2] ?? ''),
        Number(download[3]),
      );

    const body: unknown = raw.length > 0 ? JSON.parse(raw.toString()) : undefined;
    const call: RecordedCall = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      status: 0,
    };
    this.calls.push(call);
    const fault = this.takeFault(method, url.pathname);
    let answer =
      fault && !fault.afterApplying ? undefined : await this.route(method, url, body, req.headers.authorization);
    if (fault)
      answer = {
        status: fault.status,
        body: fault.body ?? { message: `fault injected: ${fault.status}` },
        ...(fault.headers ? { headers: fault.headers } : {}),
      };
    const final = answer ?? json(500, { message: 'no answer' });
    call.status = final.status;
    res.writeHead(final.status, { 'content-type': 'application/json; charset=utf-8', ...final.headers });
    res.end(final.body === undefined ? '' : JSON.stringify(final.body));
  }

  private takeFault(method: string, path: string): FaultSpec | undefined {
    const index = this.faults.findIndex(
      (fault) =>
        fault.method === method && (typeof fault.path === 'string' ? fault.path === path : fault.path.test(path)),
    );
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  private async route(method: string, url: URL, body: unknown, authorization: string | undefined): Promise<Answer> {
    const credential = credentialOf(authorization);
    const tokenRoute = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
    if (tokenRoute && method === 'POST') {
      if (credential?.scheme !== 'bearer' || !verifyAppJwt(credential.value, this.appId, appKeys().publicKey))
        return json(401, { message: 'A JSON web token could not be decoded' });
      const issued = issueToken(this.tokens, Number(tokenRoute[1]), this.tokenLifetimes.shift() ?? HOUR);
      return json(201, {
        token: issued.token,
        expires_at: new Date(issued.expiresAt).toISOString(),
        permissions: { contents: 'write', pull_requests: 'write', checks: 'write', issues: 'write' },
        repository_selection: 'all',
      });
    }
    const repoRoute = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const matched = repoRoute ? matchRoute(ROUTES, method, repoRoute[3] ?? '') : null;
    if (!repoRoute || !matched) {
      this.unexpected.push(`${method} ${url.pathname}${url.search}`);
      return json(404, { message: `Not implemented by the fake GitHub: ${method} ${url.pathname}` });
    }
    if (credential?.scheme !== 'token' || !this.validToken(credential.value))
      return json(401, { message: 'Bad credentials' });
    const repo = this.repos.get(`${decodeURIComponent(repoRoute[1] ?? '')}/${decodeURIComponent(repoRoute[2] ?? '')}`);
    if (!repo) return json(404, { message: 'Not Found' });
    return matched.route.handler({
      repo,
      params: matched.params,
      query: url.searchParams,
      body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {},
      baseUrl: this.url,
      path: url.pathname,
      actor: APP_BOT,
      appId: this.appId,
      nextId: () => this.nextId(),
    });
  }

  /** The download a job-logs redirect points at: plain text, no token needed (as GitHub's signed URLs). */
  private serveJobLog(res: ServerResponse, owner: string, name: string, jobId: number): void {
    const log = this.repos.get(`${owner}/${name}`)?.checkRuns.find((run) => run.id === jobId)?.log;
    res.writeHead(log === undefined ? 404 : 200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(log ?? 'Not Found');
  }

  private async handleGit(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const credential = credentialOf(req.headers.authorization);
    const token = credential?.scheme === 'basic' ? this.validToken(credential.value) : null;
    const record: RecordedGitRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '',
      authorizedAs: token?.label ?? null,
      status: 401,
    };
    this.gitRequests.push(record);
    if (!token) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
      res.end('authentication required\n');
      return;
    }
    const answer = await serveGitHttp(this.root, {
      method: record.method,
      pathInfo: decodeURIComponent(url.pathname),
      query: url.search.slice(1),
      headers: req.headers,
      body,
      remoteUser: 'x-access-token',
    });
    record.status = answer.status;
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }
}
