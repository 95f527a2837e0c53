import { resolveRef } from './git.js';
import { type Answer, type RepoRoute, type RouteContext, json, notFound, page } from './router.js';
import { FAKE_APP_ID, type FakeCheckRun } from './state.js';

/**
 * "Get a branch": its head and, when protected, the protection an App with contents read sees,
 * which holds the required status checks (not the required reviews).
 */
async function getBranch(context: RouteContext): Promise<Answer> {
  const { repo, baseUrl } = context;
  const name = context.params[0] ?? '';
  const sha = await resolveRef(repo.dir, `refs/heads/${name}`);
  if (!sha) return notFound(`branch ${name}`);
  const classic = repo.protection.get(name);
  const self = `${baseUrl}/repos/${repo.owner}/${repo.name}/branches/${name}`;
  return json(200, {
    name,
    commit: { sha, url: `${baseUrl}/repos/${repo.owner}/${repo.name}/commits/${sha}` },
    _links: { self, html: `${baseUrl}/${repo.owner}/${repo.name}/tree/${name}` },
    protected: classic !== undefined || repo.rulesets.has(name),
    protection: classic
      ? {
          enabled: true,
          required_status_checks: {
            enforcement_level: classic.requiredChecks.length > 0 ? 'non_admins' : 'off',
            contexts: classic.requiredChecks,
            checks: classic.requiredChecks.map((check) => ({ context: check, app_id: null })),
          },
        }
      : { enabled: false, required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] } },
    protection_url: `${self}/protection`,
  });
}

/** "Get rules for a branch": the active ruleset rules, in GitHub's detailed shape. */
function getBranchRules(context: RouteContext): Answer {
  const { repo } = context;
  const ruleset = repo.rulesets.get(context.params[0] ?? '');
  const source = { ruleset_source_type: 'Repository', ruleset_source: `${repo.owner}/${repo.name}`, ruleset_id: 42 };
  const rules = !ruleset
    ? []
    : [
        ...(ruleset.requiredChecks.length > 0
          ? [
              {
                type: 'required_status_checks',
                ...source,
                parameters: {
                  strict_required_status_checks_policy: false,
                  required_status_checks: ruleset.requiredChecks.map((check) => ({ context: check })),
                },
              },
            ]
          : []),
        ...(ruleset.requiredApprovals > 0
          ? [
              {
                type: 'pull_request',
                ...source,
                parameters: {
                  required_approving_review_count: ruleset.requiredApprovals,
                  dismiss_stale_reviews_on_push: false,
                  require_code_owner_review: false,
                  require_last_push_approval: false,
                  required_review_thread_resolution: false,
                },
              },
            ]
          : []),
      ];
  return page(context, rules);
}

/**
 * "List check suites for a Git reference": one suite per App with check runs on the head (its
 * status follows them), plus the suites seeded before their App started any run.
 */
async function listCheckSuites(context: RouteContext): Promise<Answer> {
  const { repo } = context;
  const ref = context.params[0] ?? '';
  const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : await resolveRef(repo.dir, `refs/heads/${ref}`);
  if (!sha) return notFound(`commit ${ref}`);
  const byApp = new Map<number, FakeCheckRun[]>();
  for (const run of repo.checkRuns.filter((candidate) => candidate.headSha === sha))
    byApp.set(run.appId, [...(byApp.get(run.appId) ?? []), run]);
  const suites = [...byApp].map(([appId, runs]) => {
    const seeded = repo.checkSuites.find((suite) => suite.headSha === sha && suite.appId === appId);
    const done = runs.every((run) => run.status === 'completed');
    const slug = seeded?.appSlug ?? runs[0]!.appSlug ?? (appId === FAKE_APP_ID ? 'fanout-test' : `app-${appId}`);
    return {
      id: seeded?.id ?? 500_000 + appId,
      head_sha: sha,
      status: done ? 'completed' : 'in_progress',
      conclusion: done ? (runs.some((run) => run.conclusion === 'failure') ? 'failure' : 'success') : null,
      app: { id: appId, slug, name: seeded?.appName ?? slug },
      latest_check_runs_count: new Set(runs.map((run) => run.name)).size,
      created_at: seeded?.createdAt ?? runs[0]!.startedAt,
    };
  });
  for (const suite of repo.checkSuites.filter((candidate) => candidate.headSha === sha && !byApp.has(candidate.appId)))
    suites.push({
      id: suite.id,
      head_sha: sha,
      status: 'queued',
      conclusion: null,
      app: { id: suite.appId, slug: suite.appSlug, name: suite.appName },
      latest_check_runs_count: 0,
      created_at: suite.createdAt,
    });
  return page(context, suites, (items) => ({ total_count: suites.length, check_suites: items }));
}

export const branchRoutes: RepoRoute[] = [
  { method: 'GET', pattern: /^\/branches\/(.+)$/, handler: getBranch },
  { method: 'GET', pattern: /^\/rules\/branches\/(.+)$/, handler: getBranchRules },
  { method: 'GET', pattern: /^\/commits\/([^/]+)\/check-suites$/, handler: listCheckSuites },
];
