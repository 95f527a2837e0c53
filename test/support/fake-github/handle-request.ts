import type { IncomingMessage, ServerResponse } from 'node:http';
import { appKeys, credentialOf, issueToken, verifyAppJwt } from './app-auth.js';
import { serveGitHttp } from './git-http.js';
import { type Answer, type RepoRoute, json, matchRoute } from './router.js';
import { branchRoutes } from './routes-branches.js';
import { checkRoutes } from './routes-checks.js';
import { issueRoutes } from './routes-issues.js';
import { pullRoutes } from './routes-pulls.js';
import { reviewRoutes } from './routes-reviews.js';
import {
  APP_BOT,
  type FakeRepo,
  type FaultSpec,
  type IssuedToken,
  type RecordedCall,
  type RecordedGitRequest,
} from './state.js';

const ROUTES: RepoRoute[] = [...pullRoutes, ...reviewRoutes, ...checkRoutes, ...branchRoutes, ...issueRoutes];
const JOB_LOG_DOWNLOAD = /^\/_downloads\/([^/]+)\/([^/]+)\/job-logs\/(\d+)$/;
const HOUR = 3_600_000;

/** The fake's state a request reads and records into (the arrays are the fake's own, shared). */
export interface ServerState {
  url: string;
  root: string;
  appId: number;
  calls: RecordedCall[];
  gitRequests: RecordedGitRequest[];
  unexpected: string[];
  tokens: IssuedToken[];
  repos: Map<string, FakeRepo>;
  faults: FaultSpec[];
  tokenLifetimes: number[];
  nextId: () => number;
  /** Awaited before each REST call is answered (a test's way to act at that moment). */
  beforeRoute: () => ((method: string, url: URL) => Promise<void>) | undefined;
}

/** Answers one HTTP request: git smart HTTP, a job log download, or a REST call (with any fault due). */
export async function handleRequest(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', state.url);
  // A GitHub Enterprise Server serves its REST API under /api/v3 (GHE_HOST points processes here).
  if (url.pathname.startsWith('/api/v3/')) url.pathname = url.pathname.slice('/api/v3'.length);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const method = req.method ?? 'GET';
  if (/^\/[^/]+\/[^/]+\.git\//.test(url.pathname)) return handleGit(state, req, res, url, raw);
  const download = JOB_LOG_DOWNLOAD.exec(url.pathname);
  if (download && method === 'GET')
    return serveJobLog(
      state,
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
  state.calls.push(call);
  const fault = takeFault(state, method, url.pathname);
  const answering = !fault || fault.afterApplying;
  if (answering) await state.beforeRoute()?.(method, url);
  let answer = answering ? await route(state, method, url, body, req.headers.authorization) : undefined;
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

function validToken(state: ServerState, value: string): IssuedToken | null {
  return state.tokens.find((token) => token.token === value && token.expiresAt > Date.now()) ?? null;
}

function takeFault(state: ServerState, method: string, path: string): FaultSpec | undefined {
  const index = state.faults.findIndex(
    (fault) =>
      fault.method === method && (typeof fault.path === 'string' ? fault.path === path : fault.path.test(path)),
  );
  return index < 0 ? undefined : state.faults.splice(index, 1)[0];
}

async function route(
  state: ServerState,
  method: string,
  url: URL,
  body: unknown,
  authorization: string | undefined,
): Promise<Answer> {
  const credential = credentialOf(authorization);
  const tokenRoute = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname);
  if (tokenRoute && method === 'POST') {
    if (credential?.scheme !== 'bearer' || !verifyAppJwt(credential.value, state.appId, appKeys().publicKey))
      return json(401, { message: 'A JSON web token could not be decoded' });
    const issued = issueToken(state.tokens, Number(tokenRoute[1]), state.tokenLifetimes.shift() ?? HOUR);
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
    state.unexpected.push(`${method} ${url.pathname}${url.search}`);
    return json(404, { message: `Not implemented by the fake GitHub: ${method} ${url.pathname}` });
  }
  if (credential?.scheme !== 'token' || !validToken(state, credential.value))
    return json(401, { message: 'Bad credentials' });
  const repo = state.repos.get(`${decodeURIComponent(repoRoute[1] ?? '')}/${decodeURIComponent(repoRoute[2] ?? '')}`);
  if (!repo) return json(404, { message: 'Not Found' });
  return matched.route.handler({
    repo,
    params: matched.params,
    query: url.searchParams,
    body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {},
    baseUrl: state.url,
    path: url.pathname,
    actor: APP_BOT,
    appId: state.appId,
    nextId: state.nextId,
  });
}

/** The download a job-logs redirect points at: plain text, no token needed (as GitHub's signed URLs). */
function serveJobLog(state: ServerState, res: ServerResponse, owner: string, name: string, jobId: number): void {
  const log = state.repos.get(`${owner}/${name}`)?.checkRuns.find((run) => run.id === jobId)?.log;
  res.writeHead(log === undefined ? 404 : 200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(log ?? 'Not Found');
}

async function handleGit(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
): Promise<void> {
  const credential = credentialOf(req.headers.authorization);
  const token = credential?.scheme === 'basic' ? validToken(state, credential.value) : null;
  const record: RecordedGitRequest = {
    method: req.method ?? 'GET',
    url: req.url ?? '',
    authorizedAs: token?.label ?? null,
    status: 401,
  };
  state.gitRequests.push(record);
  if (!token) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' });
    res.end('authentication required\n');
    return;
  }
  const answer = await serveGitHttp(state.root, {
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
