import { git, isAncestor, resolveRef } from './git.js';
import { unmetRequirement } from './protection.js';
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
import { type FakePull, type FakeRepo, nextIssueNumber } from './state.js';

/** An open PR's head is wherever its branch is now (read from the bare repository). */
export async function headOf(repo: FakeRepo, pull: FakePull): Promise<string> {
  if (pull.state !== 'open') return pull.lastHeadSha;
  const sha = await resolveRef(repo.dir, `refs/heads/${pull.head}`);
  if (sha) pull.lastHeadSha = sha;
  return pull.lastHeadSha;
}

/** GitHub's `mergeable` and `mergeable_state`: a conflict is `dirty`, an unmet protection rule `blocked`. */
async function mergeability(
  repo: FakeRepo,
  pull: FakePull,
  head: string,
): Promise<{ mergeable: boolean | null; mergeable_state: string }> {
  if (pull.state !== 'open') return { mergeable: null, mergeable_state: 'unknown' };
  const base = await resolveRef(repo.dir, `refs/heads/${pull.base}`);
  if (!base) return { mergeable: null, mergeable_state: 'unknown' };
  const merged = await git(repo.dir, ['merge-tree', '--write-tree', base, head], { allowExitCodes: [1] });
  if (merged.exitCode !== 0) return { mergeable: false, mergeable_state: 'dirty' };
  return {
    mergeable: true,
    mergeable_state: unmetRequirement(repo, pull.number, pull.base, head) ? 'blocked' : 'clean',
  };
}

export async function pullJson(context: RouteContext, pull: FakePull): Promise<Record<string, unknown>> {
  const { repo, baseUrl } = context;
  const head = await headOf(repo, pull);
  const repoRef = { name: repo.name, full_name: `${repo.owner}/${repo.name}`, owner: { login: repo.owner } };
  return {
    id: 100_000 + pull.number,
    number: pull.number,
    url: `${baseUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`,
    html_url: `${baseUrl}/${repo.owner}/${repo.name}/pull/${pull.number}`,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    user: { login: pull.user, type: 'Bot' },
    head: { ref: pull.head, label: `${repo.owner}:${pull.head}`, sha: head, repo: repoRef },
    base: {
      ref: pull.base,
      label: `${repo.owner}:${pull.base}`,
      sha: (await resolveRef(repo.dir, `refs/heads/${pull.base}`)) ?? '',
      repo: repoRef,
    },
    merged: pull.merged,
    merge_commit_sha: pull.mergeCommitSha,
    merged_at: pull.mergedAt,
    ...(await mergeability(repo, pull, head)),
    draft: false,
    requested_reviewers: pull.requestedReviewers.map((login) => ({ login, type: 'User' })),
    labels: (repo.issues.get(pull.number)?.labels ?? []).map((name) => ({ name })),
    created_at: pull.createdAt,
  };
}

function findPull(context: RouteContext): FakePull | undefined {
  return context.repo.pulls.get(Number(context.params[0]));
}

async function createPull(context: RouteContext): Promise<Answer> {
  const { repo, body } = context;
  const title = stringField(body, 'title');
  const rawHead = stringField(body, 'head');
  const base = stringField(body, 'base');
  if (!title || !rawHead || !base)
    return validationFailed([
      { resource: 'PullRequest', code: 'missing_field', field: !title ? 'title' : !rawHead ? 'head' : 'base' },
    ]);
  const head = rawHead.includes(':') ? rawHead.slice(rawHead.indexOf(':') + 1) : rawHead;
  const headSha = await resolveRef(repo.dir, `refs/heads/${head}`);
  const baseSha = await resolveRef(repo.dir, `refs/heads/${base}`);
  if (!headSha) return validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
  if (!baseSha) return validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
  const open = [...repo.pulls.values()].find(
    (pull) => pull.state === 'open' && pull.head === head && pull.base === base,
  );
  if (open)
    return validationFailed([
      { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${head}.` },
    ]);
  if (await isAncestor(repo.dir, headSha, baseSha))
    return validationFailed([
      { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` },
    ]);
  const number = nextIssueNumber(repo);
  const pull: FakePull = {
    number,
    head,
    base,
    title,
    body: stringField(body, 'body') ?? '',
    state: 'open',
    merged: false,
    mergeCommitSha: null,
    mergedAt: null,
    lastHeadSha: headSha,
    user: context.actor,
    createdAt: new Date().toISOString(),
    requestedReviewers: [],
  };
  repo.issues.set(number, { title, isPull: true, labels: [] });
  repo.pulls.set(number, pull);
  return json(201, await pullJson(context, pull));
}

async function listPulls(context: RouteContext): Promise<Answer> {
  const { repo, query } = context;
  const state = query.get('state') ?? 'open';
  const head = query.get('head');
  const base = query.get('base');
  const matching = [...repo.pulls.values()].filter(
    (pull) =>
      (state === 'all' || pull.state === state) &&
      (!head || `${repo.owner}:${pull.head}` === head) &&
      (!base || pull.base === base),
  );
  // GitHub lists newest first.
  const items = await Promise.all(matching.sort((a, b) => b.number - a.number).map((pull) => pullJson(context, pull)));
  return page(context, items);
}

const METHOD_NAMES = { merge: 'Merge commits', squash: 'Squash merges', rebase: 'Rebase merges' } as const;

async function mergePull(context: RouteContext): Promise<Answer> {
  const { repo, body } = context;
  const pull = findPull(context);
  if (!pull) return notFound(`pull request ${context.params[0]}`);
  if (pull.state !== 'open') return json(405, { message: 'Pull Request is not mergeable' });
  const head = await headOf(repo, pull);
  const sha = stringField(body, 'sha');
  if (sha && sha !== head) return json(409, { message: 'Head branch was modified. Review and try the merge again.' });
  const method = stringField(body, 'merge_method') ?? 'merge';
  if (method !== 'merge' && method !== 'squash' && method !== 'rebase')
    return validationFailed([{ field: 'merge_method', code: 'invalid' }]);
  const allowed = {
    merge: repo.settings.allowMergeCommit,
    squash: repo.settings.allowSquashMerge,
    rebase: repo.settings.allowRebaseMerge,
  }[method];
  if (!allowed) return json(405, { message: `${METHOD_NAMES[method]} are not allowed on this repository.` });
  if (method === 'rebase') return json(405, { message: 'The fake GitHub does not implement rebase merges.' });
  const base = await resolveRef(repo.dir, `refs/heads/${pull.base}`);
  if (!base) return json(405, { message: 'Pull Request is not mergeable' });
  const merged = await git(repo.dir, ['merge-tree', '--write-tree', base, head], { allowExitCodes: [1] });
  if (merged.exitCode !== 0) return json(405, { message: 'Pull Request is not mergeable' });
  const unmet = unmetRequirement(repo, pull.number, pull.base, head);
  if (unmet) return json(405, { message: unmet, documentation_url: 'https://docs.github.com/rest' });
  const tree = merged.stdout.split('\n')[0]?.trim() ?? '';
  const title =
    stringField(body, 'commit_title') ??
    (method === 'merge'
      ? `Merge pull request #${pull.number} from ${repo.owner}/${pull.head}`
      : `${pull.title} (#${pull.number})`);
  const message = `${title}\n\n${stringField(body, 'commit_message') ?? (method === 'merge' ? pull.title : '')}`;
  const parents = method === 'merge' ? ['-p', base, '-p', head] : ['-p', base];
  const committer = { GIT_COMMITTER_NAME: 'GitHub', GIT_COMMITTER_EMAIL: 'noreply@github.com' };
  const commit = (
    await git(repo.dir, ['commit-tree', tree, ...parents, '-F', '-'], { input: message, env: committer })
  ).stdout.trim();
  const moved = await git(repo.dir, ['update-ref', `refs/heads/${pull.base}`, commit, base], { allowExitCodes: [128] });
  if (moved.exitCode !== 0) return json(405, { message: 'Base branch was modified. Review and try the merge again.' });
  Object.assign(pull, {
    state: 'closed',
    merged: true,
    mergeCommitSha: commit,
    mergedAt: new Date().toISOString(),
    lastHeadSha: head,
  });
  return json(200, { sha: commit, merged: true, message: 'Pull Request successfully merged' });
}

export const pullRoutes: RepoRoute[] = [
  { method: 'POST', pattern: /^\/pulls$/, handler: createPull },
  { method: 'GET', pattern: /^\/pulls$/, handler: listPulls },
  {
    method: 'GET',
    pattern: /^\/pulls\/(\d+)$/,
    handler: async (context) => {
      const pull = findPull(context);
      return pull ? json(200, await pullJson(context, pull)) : notFound(`pull request ${context.params[0]}`);
    },
  },
  { method: 'PUT', pattern: /^\/pulls\/(\d+)\/merge$/, handler: mergePull },
];
