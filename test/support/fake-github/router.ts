import type { FakeRepo } from './state.js';

/** What a route answers: a status, a JSON body, extra headers. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a repository route sees of the request and the fake. */
export interface RouteContext {
  repo: FakeRepo;
  /** Captures of the route pattern after owner and repo, URL-decoded. */
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The fake's base URL (API and git share it). */
  baseUrl: string;
  path: string;
  /** Who the token acts as. */
  actor: string;
  appId: number;
  nextId: () => number;
}

export type Handler = (context: RouteContext) => Answer | Promise<Answer>;

/** A route under `/repos/{owner}/{repo}`: `pattern` is matched against the rest of the path. */
export interface RepoRoute {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

export function json(status: number, body?: unknown, headers?: Record<string, string>): Answer {
  return { status, ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) };
}

export function notFound(what: string): Answer {
  return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', detail: what });
}

export function validationFailed(errors: unknown[], message = 'Validation Failed'): Answer {
  return json(422, { message, errors, documentation_url: 'https://docs.github.com/rest' });
}

export function stringField(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  return typeof value === 'string' ? value : undefined;
}

/** One page of a list, with GitHub's Link header so `octokit.paginate` follows it. */
export function page<T>(context: RouteContext, items: readonly T[], wrap?: (pageItems: T[]) => unknown): Answer {
  const perPage = Math.min(100, Math.max(1, Number(context.query.get('per_page') ?? 30)));
  const current = Math.max(1, Number(context.query.get('page') ?? 1));
  const pageItems = items.slice((current - 1) * perPage, current * perPage);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const headers: Record<string, string> = {};
  if (current < last) {
    const link = (n: number) => {
      const query = new URLSearchParams(context.query);
      query.set('page', String(n));
      query.set('per_page', String(perPage));
      return `<${context.baseUrl}${context.path}?${query.toString()}>`;
    };
    headers.link = `${link(current + 1)}; rel="next", ${link(last)}; rel="last"`;
  }
  return json(200, wrap ? wrap(pageItems) : pageItems, headers);
}

/** Matches a method and path against repository routes; returns the route and its captures. */
export function matchRoute(
  routes: readonly RepoRoute[],
  method: string,
  rest: string,
): { route: RepoRoute; params: string[] } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(rest);
    if (match) return { route, params: match.slice(1).map((value) => decodeURIComponent(value ?? '')) };
  }
  return null;
}
