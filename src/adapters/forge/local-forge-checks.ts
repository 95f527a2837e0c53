import { randomBytes } from 'node:crypto';
import { ForgeError } from '../../domain/errors.js';
import type { CheckConclusion, CheckFailure, CheckOutput } from '../../ports/forge.js';
import { failureSummary, logTail } from './github/check-failures.js';
import type { LocalCheck, LocalPullRequest } from './local-forge-merge.js';

/** A new check run id; it starts with the pull request's number so completing it finds the record. */
export function newCheckId(number: number): string {
  return `${number}-${randomBytes(4).toString('hex')}`;
}

/** The pull request number a check run id starts with. */
export function checkPullRequest(checkId: string): number {
  return Number(checkId.split('-')[0]);
}

/** The record with a check run `id` started on `request.headSha`. */
export function withCheckStarted(
  record: LocalPullRequest,
  id: string,
  request: { name: string; headSha: string; title: string },
): LocalPullRequest {
  return {
    ...record,
    checks: [
      ...record.checks,
      {
        id,
        name: request.name,
        headSha: request.headSha,
        status: 'in_progress',
        output: { title: request.title, summary: '' },
      },
    ],
  };
}

/** The record with check run `checkId` completed; refused when the record has no such run. */
export function withCheckCompleted(
  record: LocalPullRequest,
  checkId: string,
  result: { conclusion: CheckConclusion } & CheckOutput,
): LocalPullRequest {
  const { conclusion, ...output } = result;
  if (!record.checks.some((check) => check.id === checkId))
    throw new ForgeError('forge-refused', `No check run ${checkId}.`);
  return {
    ...record,
    checks: record.checks.map((check) =>
      check.id === checkId ? { ...check, status: 'completed', conclusion, output } : check,
    ),
  };
}

/** The latest run of each check on the head, where it failed, from every record with checks on it. */
export function failedChecks(records: readonly LocalPullRequest[], headSha: string): CheckFailure[] {
  const latest = new Map<string, LocalCheck>();
  for (const record of records)
    for (const check of record.checks) if (check.headSha === headSha) latest.set(check.name, check);
  return [...latest.values()]
    .filter((check) => check.status === 'completed' && check.conclusion === 'failure')
    .map((check) => ({
      name: check.name,
      summary: failureSummary(check.output.title, check.output.summary),
      annotations: [],
      logTail: logTail(check.output.text ?? ''),
    }));
}
