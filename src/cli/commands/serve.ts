import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createNodeMiddleware, Probot, run } from 'probot';
import type { Env } from '../../config/env.js';
import { updatePrivateDotEnv } from '../../config/private-dotenv.js';
import { privateKeyFromEnv } from '../../config/secrets.js';
import { storeHealth } from '../../app/health-check.js';
import { ConfigError } from '../../domain/errors.js';
import { createFanoutApp, gitHubApiUrl, githubProbot } from '../../main-app.js';

import { EXIT_OK } from '../exit-codes.js';
import type { Output } from '../output.js';

export const SERVE_USAGE =
  'fanout serve   (settings from the environment or .env: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT...)';

/**
 * `fanout serve`: the GitHub App. Webhooks are acknowledged at once (the command is stored first);
 * runs go on in the background; a restart continues what was stored. Without credentials, outside
 * production, Probot's setup page registers the App from app.yml.
 */
export async function serveCommand(argv: string[], env: Env, output: Output): Promise<number> {
  parseArgs({ args: argv, options: {} });
  const privateKey = privateKeyFromEnv(env);
  if (!env.APP_ID || !privateKey) {
    if (process.env.NODE_ENV === 'production') {
      throw new ConfigError(
        'The App has no credentials: set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), and WEBHOOK_SECRET. Register the App first (README: "Running the App").',
      );
    }
    output.out(
      "No APP_ID or private key: starting Probot's setup page to register the App from app.yml (needs internet access). Restart after registering.",
    );
    // Probot's own writer leaves `.env`, private key and all, readable by every local user (0644).
    await run(() => undefined, { updateEnv: (updates) => updatePrivateDotEnv(updates) });
    return new Promise<number>(() => undefined);
  }
  if (!env.WEBHOOK_SECRET)
    throw new ConfigError(
      'WEBHOOK_SECRET is not set: the App must check that webhooks come from GitHub. Use the secret you gave when registering the App.',
    );
  const appId = Number(env.APP_ID);
  const probot = githubProbot(env, appId, privateKey, env.WEBHOOK_SECRET);
  const baseUrl = gitHubApiUrl(env);
  const appSlug = env.APP_SLUG ?? (await appSlugFromGitHub(probot));
  const fanout = createFanoutApp(env, {
    probot,
    appId,
    ...(appSlug ? { appSlug } : {}),
    log: (message, error) => probot.log.error({ err: error }, message),
  });
  const middleware = await createNodeMiddleware(fanout.appFn, { probot, webhooksPath: env.WEBHOOK_PATH });
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/healthz') {
      void storeHealth(fanout.store).then((health) => {
        if (health.ok) return response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        probot.log.warn({ err: health.error }, `health check failed: ${health.reason}`);
        response.writeHead(503, { 'content-type': 'text/plain' }).end(`${health.reason}\n`);
      });
      return;
    }
    void middleware(request, response, () => response.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(env.PORT, env.HOST ?? '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  output.out(
    `Fanout App ${appId}${appSlug ? ` (${appSlug})` : ''} listening on port ${port}, webhooks at ${env.WEBHOOK_PATH}${baseUrl ? `, GitHub at ${baseUrl}` : ''}`,
  );
  await fanout.queue.recover();
  // Stopping loses nothing: stored commands and unfinished runs are picked up at the next start.
  return new Promise<number>((resolve) => {
    const stop = () => {
      server.close();
      void fanout.close().finally(() => resolve(EXIT_OK));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** The App's slug (its bot pushes as `<slug>[bot]`), or undefined when GitHub cannot be asked. */
async function appSlugFromGitHub(probot: Probot): Promise<string | undefined> {
  try {
    const octokit = await probot.auth();
    const { data } = await octokit.rest.apps.getAuthenticated();
    return data?.slug;
  } catch {
    return undefined;
  }
}
