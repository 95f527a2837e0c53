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
import type { FakeComment, FakeLabel, FakeRole } from './state.js';

const REACTIONS = new Set(['+1', '-1', 'laugh', 'confused', 'heart', 'hooray', 'rocket', 'eyes']);

function commentJson(context: RouteContext, comment: FakeComment): Record<string, unknown> {
  const { repo, baseUrl } = context;
  return {
    id: comment.id,
    body: comment.body,
    user: { login: comment.user, type: comment.user.endsWith('[bot]') ? 'Bot' : 'User' },
    html_url: `${baseUrl}/${repo.owner}/${repo.name}/issues/${comment.issue}#issuecomment-${comment.id}`,
    issue_url: `${baseUrl}/repos/${repo.owner}/${repo.name}/issues/${comment.issue}`,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  };
}

function createComment(context: RouteContext): Answer {
  const number = Number(context.params[0]);
  if (!context.repo.issues.has(number)) return notFound(`issue ${number}`);
  const body = stringField(context.body, 'body');
  if (body === undefined) return validationFailed([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
  const now = new Date().toISOString();
  const comment: FakeComment = {
    id: context.nextId(),
    issue: number,
    body,
    user: context.actor,
    createdAt: now,
    updatedAt: now,
  };
  context.repo.comments.push(comment);
  return json(201, commentJson(context, comment));
}

function updateComment(context: RouteContext): Answer {
  const comment = context.repo.comments.find((candidate) => candidate.id === Number(context.params[0]));
  if (!comment) return notFound(`comment ${context.params[0]}`);
  const body = stringField(context.body, 'body');
  if (body === undefined) return validationFailed([{ resource: 'IssueComment', field: 'body', code: 'missing_field' }]);
  Object.assign(comment, { body, updatedAt: new Date().toISOString() });
  return json(200, commentJson(context, comment));
}

function react(context: RouteContext): Answer {
  const commentId = Number(context.params[0]);
  if (!context.repo.comments.some((comment) => comment.id === commentId)) return notFound(`comment ${commentId}`);
  const content = stringField(context.body, 'content');
  if (!content || !REACTIONS.has(content))
    return validationFailed([{ resource: 'Reaction', field: 'content', code: 'invalid' }]);
  // GitHub answers 200 with the existing reaction when the same user reacts the same way again.
  const existing = context.repo.reactions.find(
    (reaction) => reaction.commentId === commentId && reaction.content === content && reaction.user === context.actor,
  );
  const reaction = existing ?? { id: context.nextId(), commentId, content, user: context.actor };
  if (!existing) context.repo.reactions.push(reaction);
  return json(existing ? 200 : 201, { id: reaction.id, content, user: { login: reaction.user } });
}

function labelJson(context: RouteContext, label: FakeLabel): Record<string, unknown> {
  const { repo, baseUrl } = context;
  return {
    id: label.id,
    name: label.name,
    color: label.color,
    default: false,
    description: null,
    url: `${baseUrl}/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
  };
}

/** Adds labels (names, or `{ name }` objects) to an issue; a name the repository lacks is created. 200 with all its labels. */
function addLabels(context: RouteContext): Answer {
  const { repo } = context;
  const issue = repo.issues.get(Number(context.params[0]));
  if (!issue) return notFound(`issue ${context.params[0]}`);
  const given = context.body.labels;
  const names = Array.isArray(given)
    ? given.map((label: unknown) =>
        typeof label === 'string'
          ? label
          : typeof label === 'object' && label !== null && 'name' in label && typeof label.name === 'string'
            ? label.name
            : '',
      )
    : [];
  if (names.length === 0 || names.some((name) => name.trim() === ''))
    return validationFailed([{ resource: 'Label', field: 'labels', code: 'invalid' }]);
  for (const name of names) {
    // Label names match case-insensitively on GitHub; the repository's spelling wins.
    const known = repo.labels.find((label) => label.name.toLowerCase() === name.toLowerCase()) ?? {
      id: context.nextId(),
      name,
      color: 'ededed',
    };
    if (!repo.labels.includes(known)) repo.labels.push(known);
    if (!issue.labels.includes(known.name)) issue.labels.push(known.name);
  }
  return json(
    200,
    issue.labels.map((name) =>
      labelJson(context, repo.labels.find((label) => label.name === name) ?? { id: 0, name, color: 'ededed' }),
    ),
  );
}

/** What the permission API reports for a role: maintain folds into write, triage into read. */
const PERMISSION: Record<FakeRole, string> = {
  admin: 'admin',
  maintain: 'write',
  write: 'write',
  triage: 'read',
  read: 'read',
  none: 'none',
};

function permission(context: RouteContext): Answer {
  const login = context.params[0] ?? '';
  const role = context.repo.roles.get(login);
  if (!role) return notFound(`user ${login}`);
  return json(200, { permission: PERMISSION[role], role_name: role, user: { login, type: 'User' } });
}

function repository(context: RouteContext): Answer {
  const { repo, baseUrl } = context;
  return json(200, {
    id: 1,
    name: repo.name,
    full_name: `${repo.owner}/${repo.name}`,
    owner: { login: repo.owner },
    private: false,
    default_branch: repo.defaultBranch,
    clone_url: `${baseUrl}/${repo.owner}/${repo.name}.git`,
    html_url: `${baseUrl}/${repo.owner}/${repo.name}`,
    allow_merge_commit: repo.settings.allowMergeCommit,
    allow_squash_merge: repo.settings.allowSquashMerge,
    allow_rebase_merge: repo.settings.allowRebaseMerge,
  });
}

export const issueRoutes: RepoRoute[] = [
  { method: 'GET', pattern: /^$/, handler: repository },
  { method: 'POST', pattern: /^\/issues\/(\d+)\/comments$/, handler: createComment },
  {
    method: 'GET',
    pattern: /^\/issues\/(\d+)\/comments$/,
    handler: (context) => {
      const number = Number(context.params[0]);
      if (!context.repo.issues.has(number)) return notFound(`issue ${number}`);
      const since = context.query.get('since');
      const comments = context.repo.comments.filter(
        (comment) => comment.issue === number && (!since || comment.updatedAt >= since),
      );
      return page(
        context,
        comments.map((comment) => commentJson(context, comment)),
      );
    },
  },
  { method: 'PATCH', pattern: /^\/issues\/comments\/(\d+)$/, handler: updateComment },
  { method: 'POST', pattern: /^\/issues\/(\d+)\/labels$/, handler: addLabels },
  { method: 'POST', pattern: /^\/issues\/comments\/(\d+)\/reactions$/, handler: react },
  { method: 'GET', pattern: /^\/collaborators\/([^/]+)\/permission$/, handler: permission },
];
