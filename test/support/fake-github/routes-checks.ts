import { hasCommit, resolveRef } from './git.js';
import {
  type Answer,
  type RepoRoute,
  type RouteContext,
  json,
  notFound,
  page,
  stringField,
  validationFailed,
} from './router.js';
import { ACTIONS_APP_ID, FAKE_APP_ID, type FakeCheckRun, type FakeRepo, type FakeStatus } from './state.js';

/** GitHub's limit on a check run's output summary and text. */
export const CHECK_OUTPUT_LIMIT = 65535;

const STATUSES = new Set(['queued', 'in_progress', 'completed']);
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'timed_out']);

function appSlug(run: FakeCheckRun): string {
  if (run.appSlug !== undefined) return run.appSlug;
  return run.appId === FAKE_APP_ID
    ? 'fanout-test'
    : run.appId === ACTIONS_APP_ID
      ? 'github-actions'
      : `app-${run.appId}`;
}

export function checkRunJson(run: FakeCheckRun): Record<string, unknown> {
  return {
    id: run.id,
    name: run.name,
    head_sha: run.headSha,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: { ...run.output, annotations_count: run.annotations?.length ?? 0 },
    app: { id: run.appId, slug: appSlug(run) },
  };
}

/** Applies status, conclusion and output from a create or update body; null when valid. */
function applyCheckFields(run: FakeCheckRun, body: Record<string, unknown>): Answer | null {
  const status = stringField(body, 'status');
  const conclusion = stringField(body, 'conclusion');
  if (status !== undefined && !STATUSES.has(status)) return validationFailed([{ field: 'status', code: 'invalid' }]);
  if (conclusion !== undefined && !CONCLUSIONS.has(conclusion))
    return validationFailed([{ field: 'conclusion', code: 'invalid' }]);
  if (status === 'completed' && conclusion === undefined)
    return validationFailed([{ field: 'conclusion', code: 'missing_field' }]);
  const output = body.output;
  if (output !== undefined) {
    if (typeof output !== 'object' || output === null) return validationFailed([{ field: 'output', code: 'invalid' }]);
    const fields = output as Record<string, unknown>;
    const title = stringField(fields, 'title');
    const summary = stringField(fields, 'summary');
    const text = stringField(fields, 'text');
    if (title === undefined || summary === undefined)
      return validationFailed([{ field: 'output', code: 'missing_field' }]);
    for (const value of [summary, text]) {
      if (value !== undefined && value.length > CHECK_OUTPUT_LIMIT) {
        return json(422, {
          message: `Invalid request.\n\nOnly ${CHECK_OUTPUT_LIMIT} characters are allowed; ${value.length} were supplied.`,
        });
      }
    }
    run.output = { title, summary, text: text ?? null };
  }
  if (conclusion !== undefined) {
    run.conclusion = conclusion;
    run.status = 'completed';
    run.completedAt = stringField(body, 'completed_at') ?? new Date().toISOString();
  } else if (status !== undefined) {
    run.status = status as FakeCheckRun['status'];
  }
  return null;
}

async function createCheckRun(context: RouteContext): Promise<Answer> {
  const { repo, body } = context;
  const name = stringField(body, 'name');
  const headSha = stringField(body, 'head_sha');
  if (!name || !headSha) return validationFailed([{ field: !name ? 'name' : 'head_sha', code: 'missing_field' }]);
  if (!(await hasCommit(repo.dir, headSha)))
    return validationFailed([{ field: 'head_sha', code: 'invalid' }], `No commit found for SHA: ${headSha}`);
  const run: FakeCheckRun = {
    id: context.nextId(),
    name,
    headSha,
    status: 'queued',
    conclusion: null,
    output: { title: null, summary: null, text: null },
    appId: context.appId,
    startedAt: stringField(body, 'started_at') ?? new Date().toISOString(),
    completedAt: null,
  };
  const invalid = applyCheckFields(run, body);
  if (invalid) return invalid;
  repo.checkRuns.push(run);
  return json(201, checkRunJson(run));
}

function updateCheckRun(context: RouteContext): Answer {
  const run = context.repo.checkRuns.find((candidate) => candidate.id === Number(context.params[0]));
  if (!run) return notFound(`check run ${context.params[0]}`);
  // Validate on a copy: a refused update changes nothing.
  const draft = { ...run, output: { ...run.output } };
  const invalid = applyCheckFields(draft, context.body);
  if (invalid) return invalid;
  Object.assign(run, draft);
  return json(200, checkRunJson(run));
}

/** A ref in a path: a full sha, or a branch name. */
async function commitOf(repo: FakeRepo, ref: string): Promise<string | null> {
  if (/^[0-9a-f]{40}$/.test(ref)) return (await hasCommit(repo.dir, ref)) ? ref : null;
  return resolveRef(repo.dir, `refs/heads/${ref}`);
}

async function listCheckRuns(context: RouteContext): Promise<Answer> {
  const { repo, query } = context;
  const sha = await commitOf(repo, context.params[0] ?? '');
  if (!sha) return validationFailed([], `No commit found for SHA: ${context.params[0]}`);
  let runs = repo.checkRuns.filter(
    (run) => run.headSha === sha && (!query.get('check_name') || run.name === query.get('check_name')),
  );
  if ((query.get('filter') ?? 'latest') === 'latest') {
    // The most recent run per name and app, as GitHub's `filter=latest`.
    const latest = new Map<string, FakeCheckRun>();
    for (const run of runs) latest.set(`${run.appId}/${run.name}`, run);
    runs = [...latest.values()];
  }
  const items = runs.map(checkRunJson);
  return page(context, items, (pageItems) => ({ total_count: items.length, check_runs: pageItems }));
}

function statusJson(status: FakeStatus): Record<string, unknown> {
  return {
    id: status.id,
    context: status.context,
    state: status.state,
    description: status.description ?? null,
    target_url: null,
    created_at: status.createdAt,
  };
}

async function combinedStatus(context: RouteContext): Promise<Answer> {
  const { repo } = context;
  const sha = await commitOf(repo, context.params[0] ?? '');
  if (!sha) return notFound(`commit ${context.params[0]}`);
  const latest = new Map<string, FakeStatus>();
  for (const status of repo.statuses.filter((candidate) => candidate.sha === sha)) latest.set(status.context, status);
  const statuses = [...latest.values()];
  // GitHub says `pending` when there are no statuses at all.
  const state = statuses.some((status) => status.state === 'error' || status.state === 'failure')
    ? 'failure'
    : statuses.length === 0 || statuses.some((status) => status.state === 'pending')
      ? 'pending'
      : 'success';
  return json(200, { state, sha, total_count: statuses.length, statuses: statuses.map(statusJson) });
}

function listAnnotations(context: RouteContext): Answer {
  const { repo, baseUrl } = context;
  const run = repo.checkRuns.find((candidate) => candidate.id === Number(context.params[0]));
  if (!run) return notFound(`check run ${context.params[0]}`);
  const items = (run.annotations ?? []).map((annotation) => ({
    path: annotation.path,
    start_line: annotation.line,
    end_line: annotation.line,
    start_column: null,
    end_column: null,
    annotation_level: annotation.level,
    title: annotation.title ?? null,
    message: annotation.message,
    raw_details: null,
    blob_href: `${baseUrl}/${repo.owner}/${repo.name}/blob/${run.headSha}/${annotation.path}`,
  }));
  return page(context, items);
}

/** Where `GET /actions/jobs/{id}/logs` redirects: the fake's stand-in for a short-lived download URL. */
export function jobLogPath(owner: string, repo: string, jobId: number): string {
  return `/_downloads/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/job-logs/${jobId}`;
}

/** GitHub answers 302 to a download URL that needs no token; Octokit's fetch follows it. */
function jobLogs(context: RouteContext): Answer {
  const { repo } = context;
  const run = repo.checkRuns.find((candidate) => candidate.id === Number(context.params[0]));
  // Only GitHub Actions check runs are jobs.
  if (!run || appSlug(run) !== 'github-actions' || run.log === undefined) return notFound(`job ${context.params[0]}`);
  return json(302, undefined, { location: `${context.baseUrl}${jobLogPath(repo.owner, repo.name, run.id)}` });
}

export const checkRoutes: RepoRoute[] = [
  { method: 'GET', pattern: /^\/check-runs\/(\d+)\/annotations$/, handler: listAnnotations },
  { method: 'GET', pattern: /^\/actions\/jobs\/(\d+)\/logs$/, handler: jobLogs },
  { method: 'POST', pattern: /^\/check-runs$/, handler: createCheckRun },
  { method: 'PATCH', pattern: /^\/check-runs\/(\d+)$/, handler: updateCheckRun },
  { method: 'GET', pattern: /^\/commits\/([^/]+)\/check-runs$/, handler: listCheckRuns },
  { method: 'GET', pattern: /^\/commits\/([^/]+)\/status$/, handler: combinedStatus },
];
