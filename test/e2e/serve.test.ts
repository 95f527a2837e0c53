import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseEnv } from 'node:util';
import { sign } from '@octokit/webhooks-methods';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gitHubApiUrl } from '../../src/main-app.js';
import { tempDir } from '../support/temp-dir.js';
import { testPrivateKey, WEBHOOK_SECRET } from '../support/webhook-client.js';
import { example } from '../support/webhook-examples.js';

const CLI = join(process.cwd(), 'src/cli/main.ts');
const TSX = pathToFileURL(join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')).href;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A loopback port nothing listens on right now (Probot's setup server takes no port 0). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serve(
  env: Record<string, string>,
  cwd?: string,
): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  // tsx by its path: the child may run in a directory of its own, where `tsx` does not resolve.
  const child = spawn(process.execPath, ['--import', TSX, CLI, 'serve'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  children.push(child);
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text, exit: new Promise((resolve) => child.once('exit', resolve)) };
}

describe('fanout serve (npm start)', () => {
  it('answers webhooks (a bad signature 400, a signed delivery 200) and its health check, and stops cleanly', async () => {
    const root = await tempDir('fanout-serve-');
    const app = serve({
      NODE_ENV: 'production',
      APP_ID: '123',
      APP_SLUG: 'fanout',
      PRIVATE_KEY: Buffer.from(testPrivateKey()).toString('base64'),
      WEBHOOK_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      FANOUT_STATE_DIR: join(root, 'state'),
      FANOUT_SANDBOX: 'none',
      FANOUT_ALLOW_ROOT_NONE: '1',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      LOG_LEVEL: 'fatal',
    });
    let port = 0;
    await vi.waitFor(
      () => {
        port = Number(/listening on port (\d+)/.exec(app.output())?.[1] ?? 0);
        expect(port, app.output()).toBeGreaterThan(0);
      },
      { timeout: 20_000, interval: 50 },
    );
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const payload = example('issue_comment', (candidate) => candidate.action === 'created');
    const body = JSON.stringify({ ...payload, comment: { ...payload.comment, body: 'Nice work, no command here.' } });
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'issue_comment',
      'x-github-delivery': 'delivery-1',
    };
    const forged = await fetch(`${url}/api/github/webhooks`, {
      method: 'POST',
      body,
      headers: { ...headers, 'x-hub-signature-256': await sign('not-the-secret', body) },
    });
    expect(forged.status).toBe(400);
    const signed = await fetch(`${url}/api/github/webhooks`, {
      method: 'POST',
      body,
      headers: { ...headers, 'x-hub-signature-256': await sign(WEBHOOK_SECRET, body) },
    });
    expect(signed.status).toBe(200);

    // The store goes: the health check says so (503 and why), as a load balancer needs to know.
    await rm(join(root, 'state'), { recursive: true, force: true });
    await writeFile(join(root, 'state'), 'not a directory\n');
    const down = await fetch(`${url}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.text()).toMatch(/^store unavailable: E[A-Z]+\n$/);

    app.child.kill('SIGTERM');
    expect(await app.exit).toBe(0);
  }, 40_000);

  it("writes the credentials Probot's setup receives into a .env only its owner can read", async () => {
    const cwd = await tempDir('fanout-setup-');
    // A .env lying there already, readable by all, as Probot's own setup left it.
    await writeFile(join(cwd, '.env'), 'OPENAI_API_KEY=sk-from-before\n', { mode: 0o644 });
    await chmod(join(cwd, '.env'), 0o644);
    const port = await freePort();
    const app = serve({ NO_SMEE_SETUP: 'true', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'fatal' }, cwd);
    const setup = `http://127.0.0.1:${port}/probot/import`;
    const answer = await vi.waitFor(
      () =>
        fetch(setup, {
          method: 'POST',
          body: JSON.stringify({ appId: '77', pem: testPrivateKey(), webhook_secret: 'hook-secret' }),
        }),
      { timeout: 20_000, interval: 100 },
    );
    expect(answer.status, app.output()).toBe(200);

    expect((await stat(join(cwd, '.env'))).mode & 0o777).toBe(0o600);
    const written = parseEnv(await readFile(join(cwd, '.env'), 'utf8'));
    expect(written).toMatchObject({ APP_ID: '77', WEBHOOK_SECRET: 'hook-secret', OPENAI_API_KEY: 'sk-from-before' });
    expect(written.PRIVATE_KEY).toContain('-----BEGIN');
  }, 40_000);

  it('refuses to start in production without credentials, naming what is missing (exit 2)', async () => {
    const app = serve({ NODE_ENV: 'production', FANOUT_STATE_DIR: join(await tempDir(), 'state') });
    expect(await app.exit).toBe(2);
    expect(app.output()).toContain('set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), and WEBHOOK_SECRET');
  }, 20_000);

  it('talks to GitHub Enterprise Server when GHE_HOST is set', () => {
    expect(gitHubApiUrl({ GHE_HOST: 'github.example.com', GHE_PROTOCOL: 'https' })).toBe(
      'https://github.example.com/api/v3',
    );
    expect(gitHubApiUrl({ GHE_PROTOCOL: 'https' })).toBeUndefined();
  });
});
