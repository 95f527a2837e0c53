import type { RepositoryCi } from '../../../ports/forge.js';
import type { RepositoryName } from './pull-requests.js';
import type { GitHubOctokit } from './token-source.js';
import { forgeError, httpFailure } from './wrap-error.js';

/** What a base branch requires before a merge, as far as the App's permissions show it. */
export type BaseRequirements = Pick<RepositoryCi, 'requiredChecks' | 'requiredApprovals'>;

/** The parts of "Get a branch" that say what its classic protection requires. */
export interface BranchData {
  protected?: boolean;
  protection?: {
    enabled?: boolean;
    required_status_checks?: {
      enforcement_level?: string;
      contexts?: string[];
      checks?: Array<{ context: string }>;
    };
    required_pull_request_reviews?: { required_approving_review_count?: number };
  };
}

/** One rule of "Get rules for a branch" (rulesets); only two kinds matter here. */
export interface BranchRuleData {
  type: string;
  parameters?: {
    required_status_checks?: Array<{ context: string }>;
    required_approving_review_count?: number;
  };
}

/** A check suite as "List check suites for a Git reference" gives it. */
export interface CheckSuiteData {
  status: string | null;
  latest_check_runs_count?: number;
  app: { slug?: string; name?: string } | null;
}

/**
 * What a branch requires (pure): the status checks and approving reviews of its classic protection
 * and of every active ruleset rule on it. "Get a branch" shows required status checks to an App
 * with contents read; required reviews of classic protection need Administration read, which the
 * App does not ask for: a merge that protection refuses for them waits (405, see `merge.ts`).
 */
export function baseRequirements(branch: BranchData, rules: readonly BranchRuleData[]): BaseRequirements {
  const contexts = new Set<string>();
  let approvals = 0;
  const classic = branch.protected === false || branch.protection?.enabled === false ? undefined : branch.protection;
  const statusChecks = classic?.required_status_checks;
  if (statusChecks && statusChecks.enforcement_level !== 'off') {
    for (const context of statusChecks.contexts ?? []) contexts.add(context);
    for (const check of statusChecks.checks ?? []) contexts.add(check.context);
  }
  approvals = Math.max(approvals, classic?.required_pull_request_reviews?.required_approving_review_count ?? 0);
  for (const rule of rules) {
    if (rule.type === 'required_status_checks')
      for (const check of rule.parameters?.required_status_checks ?? []) contexts.add(check.context);
    if (rule.type === 'pull_request')
      approvals = Math.max(approvals, rule.parameters?.required_approving_review_count ?? 0);
  }
  return { requiredChecks: [...contexts], requiredApprovals: approvals };
}

/** Apps whose check suite on the head has not started a check run yet (pure): CI about to report. */
export function startingSuites(suites: readonly CheckSuiteData[]): string[] {
  const apps = suites
    .filter((suite) => suite.status !== 'completed' && (suite.latest_check_runs_count ?? 0) === 0)
    .map((suite) => suite.app?.name ?? suite.app?.slug ?? 'an app');
  return [...new Set(apps)];
}

/** Reads what `branch` requires: "Get a branch" (classic protection) and "Get rules for a branch" (rulesets). */
export async function readBaseRequirements(
  octokit: GitHubOctokit,
  name: RepositoryName,
  branch: string,
): Promise<BaseRequirements> {
  const [branchData, rules] = await Promise.all([
    octokit.rest.repos.getBranch({ ...name, branch }).then(
      ({ data }) => data as BranchData,
      (error: unknown) => {
        throw forgeError(`read branch ${branch}`, error);
      },
    ),
    octokit
      .paginate(octokit.rest.repos.getBranchRules, { ...name, branch, per_page: 100 })
      .then((data) => data as BranchRuleData[])
      .catch((error: unknown) => {
        // No rulesets here (an older GitHub Enterprise Server answers 404): nothing they require.
        if (httpFailure(error)?.status === 404) return [];
        throw forgeError(`read the rules of branch ${branch}`, error);
      }),
  ]);
  return baseRequirements(branchData, rules);
}

/** Reads the check suites on a head and names the apps that have not started one yet. */
export async function readStartingSuites(octokit: GitHubOctokit, name: RepositoryName, sha: string): Promise<string[]> {
  try {
    const suites = await octokit.paginate(octokit.rest.checks.listSuitesForRef, { ...name, ref: sha, per_page: 100 });
    return startingSuites(suites as CheckSuiteData[]);
  } catch (error) {
    throw forgeError(`list check suites on ${sha.slice(0, 8)}`, error);
  }
}
