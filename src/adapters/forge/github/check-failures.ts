import type { CheckFailure } from '../../../ports/forge.js';
import { keepHead, keepTail } from './check-output.js';
import type { RepositoryName } from './pull-requests.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError } from './wrap-error.js';

/** What an agent is shown of a failure: enough to act on, small enough for its prompt. */
export const SUMMARY_LIMIT = 2_000;
export const LOG_TAIL_LIMIT = 4_000;
export const ANNOTATION_LIMIT = 20;

// timed_out is a red the code may cause (a hanging test); cancelled, stale and the like are not.
const FAILED_CONCLUSIONS = new Set(['failure', 'timed_out']);
const FAILED_STATUSES = new Set(['failure', 'error']);
// Every line of a GitHub Actions job log starts with an ISO timestamp: noise for an agent.
const LOG_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/gm;

/** A check run as the check-runs list gives it, with what a failure report needs. */
export interface FailedRunData {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  app: { slug?: string } | null;
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number };
}

type Annotation = CheckFailure['annotations'][number];

/** The runs whose latest run per name (the highest id, as readiness counts them) failed. */
export function failedRuns<T extends Pick<FailedRunData, 'id' | 'name' | 'status' | 'conclusion'>>(
  runs: readonly T[],
): T[] {
  const latest = new Map<string, T>();
  for (const run of runs) {
    const seen = latest.get(run.name);
    if (!seen || run.id > seen.id) latest.set(run.name, run);
  }
  return [...latest.values()].filter(
    (run) => run.status === 'completed' && run.conclusion !== null && FAILED_CONCLUSIONS.has(run.conclusion),
  );
}

/** A check's title and summary as one text, its head kept. */
export function failureSummary(title: string | null, summary: string | null): string {
  return keepHead(
    [title, summary].filter((part): part is string => !!part && part.trim() !== '').join('\n\n'),
    SUMMARY_LIMIT,
  );
}

/** A downloaded log as text: Octokit gives a string for text/*, bytes for anything else. */
export function logText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
  return '';
}

/** The last LOG_TAIL_LIMIT characters of an output text or log (its end says why it failed). */
export function logTail(text: string): string {
  return keepTail(text.trimEnd(), LOG_TAIL_LIMIT);
}

/** The failed check runs and commit statuses on a head, each with what it said about why. */
export async function checkFailures(
  octokit: GitHubOctokit,
  name: RepositoryName,
  headSha: string,
): Promise<CheckFailure[]> {
  const short = headSha.slice(0, 8);
  const [runs, statuses] = await Promise.all([
    octokit
      .paginate(octokit.rest.checks.listForRef, { ...name, ref: headSha, filter: 'latest', per_page: 100 })
      .catch((error: unknown) => {
        throw forgeError(`list check runs on ${short}`, error);
      }),
    octokit.rest.repos.getCombinedStatusForRef({ ...name, ref: headSha, per_page: 100 }).then(
      ({ data }) => data.statuses,
      (error: unknown) => {
        throw forgeError(`read commit statuses of ${short}`, error);
      },
    ),
  ]);
  const fromRuns = await Promise.all(failedRuns<FailedRunData>(runs).map((run) => runFailure(octokit, name, run)));
  const fromStatuses = statuses
    .filter((status) => FAILED_STATUSES.has(status.state))
    .map((status): CheckFailure => ({
      name: status.context,
      summary: keepHead(status.description ?? '', SUMMARY_LIMIT),
      annotations: [],
      logTail: '',
    }));
  return [...fromRuns, ...fromStatuses];
}

async function runFailure(octokit: GitHubOctokit, name: RepositoryName, run: FailedRunData): Promise<CheckFailure> {
  const [annotations, jobLog] = await Promise.all([
    run.output.annotations_count > 0 ? failureAnnotations(octokit, name, run.id) : Promise.resolve([]),
    // An Actions check run's id is its job's id; the job log says more than the output text.
    run.app?.slug === 'github-actions' ? jobLogTail(octokit, name, run.id) : Promise.resolve(null),
  ]);
  return {
    name: run.name,
    summary: failureSummary(run.output.title, run.output.summary),
    annotations,
    logTail: jobLog ?? logTail(run.output.text ?? ''),
  };
}

/** Failure-level annotations (every level when there are none), at most ANNOTATION_LIMIT. */
async function failureAnnotations(
  octokit: GitHubOctokit,
  name: RepositoryName,
  checkRunId: number,
): Promise<Annotation[]> {
  const failures: Annotation[] = [];
  const others: Annotation[] = [];
  try {
    for await (const { data } of octokit.paginate.iterator(octokit.rest.checks.listAnnotations, {
      ...name,
      check_run_id: checkRunId,
      per_page: 100,
    })) {
      for (const annotation of data) {
        const kept = annotation.annotation_level === 'failure' ? failures : others;
        if (kept.length < ANNOTATION_LIMIT)
          kept.push({
            path: annotation.path,
            line: annotation.start_line ?? null,
            message: annotation.message ?? annotation.title ?? '',
          });
      }
      if (failures.length >= ANNOTATION_LIMIT) break;
    }
  } catch (error) {
    throw forgeError(`list annotations of check run ${checkRunId}`, error);
  }
  return failures.length > 0 ? failures : others;
}

/** Best effort: reading job logs needs the `actions` permission, which an installation may lack. */
async function jobLogTail(octokit: GitHubOctokit, name: RepositoryName, jobId: number): Promise<string | null> {
  try {
    const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...name, job_id: jobId });
    const text = logText(data);
    return text.trim() === '' ? null : logTail(text.replace(LOG_TIMESTAMP, ''));
  } catch {
    return null;
  }
}
