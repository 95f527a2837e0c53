import { spawn } from 'node:child_process';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';

export interface GitHttpRequest {
  method: string;
  /** `/owner/repo.git/info/refs`, `/owner/repo.git/git-receive-pack`, … */
  pathInfo: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Set once the request is authenticated; `git http-backend` then allows pushes. */
  remoteUser: string;
}

export interface GitHttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/** Serves git's smart HTTP protocol for the bare repositories under `root` through `git http-backend` (CGI). */
export function serveGitHttp(root: string, request: GitHttpRequest): Promise<GitHttpAnswer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: tmpdir(),
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: request.pathInfo,
        QUERY_STRING: request.query,
        REQUEST_METHOD: request.method,
        CONTENT_TYPE: header(request.headers, 'content-type'),
        CONTENT_LENGTH: String(request.body.length),
        HTTP_CONTENT_ENCODING: header(request.headers, 'content-encoding'),
        HTTP_GIT_PROTOCOL: header(request.headers, 'git-protocol'),
        REMOTE_USER: request.remoteUser,
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const raw = Buffer.concat(out);
      const split =
        raw.indexOf('\r\n\r\n') >= 0 ? { at: raw.indexOf('\r\n\r\n'), skip: 4 } : { at: raw.indexOf('\n\n'), skip: 2 };
      if (split.at < 0) {
        resolve({
          status: 500,
          headers: { 'content-type': 'text/plain' },
          body: Buffer.from(`git http-backend exited ${code}: ${Buffer.concat(err).toString()}`),
        });
        return;
      }
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of raw.subarray(0, split.at).toString().split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      resolve({ status, headers, body: raw.subarray(split.at + split.skip) });
    });
    // git may answer (a refused push) before reading the whole body: a broken pipe is not an error here.
    child.stdin.on('error', () => undefined);
    child.stdin.end(request.body);
  });
}
