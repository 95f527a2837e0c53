import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';

export const WEBHOOK_SECRET = 'webhook-secret-for-tests';

let privateKey: string | undefined;

/** A PEM key for the test App (made once per worker: RSA key generation is slow). */
export function testPrivateKey(): string {
  privateKey ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return privateKey;
}

export interface Delivery {
  /** The `X-GitHub-Delivery` id (a fresh GUID unless given). */
  id?: string;
  /** Signs with this secret instead of the App's. */
  secret?: string;
}

export interface WebhookServer {
  url: string;
  /** Posts a signed delivery as GitHub does and returns the answer. */
  deliver(event: string, payload: object, delivery?: Delivery): Promise<{ status: number; text: string; id: string }>;
  close(): Promise<void>;
}

/**
 * The real Probot app behind Probot's real webhook middleware on a loopback port, as production
 * serves it (signature check, routing, error-to-status mapping); Octokit retry and throttling off.
 */
export async function startWebhookServer(appFn: (app: Probot) => void, appId: number): Promise<WebhookServer> {
  // The function form: Probot's own throttle layer would put `enabled: true` back otherwise.
  const Octokit = ProbotOctokit.defaults((defaults: Record<string, unknown>) => ({
    ...defaults,
    retry: { enabled: false },
    throttle: { enabled: false },
  }));
  const probot = new Probot({
    appId,
    privateKey: testPrivateKey(),
    secret: WEBHOOK_SECRET,
    Octokit,
    logLevel: 'fatal',
  });
  const middleware = await createNodeMiddleware(appFn, { probot });
  const server: Server = createServer((request, response) => {
    void middleware(request, response, () => response.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
  return {
    url,
    async deliver(event, payload, delivery = {}) {
      const id = delivery.id ?? randomUUID();
      const body = JSON.stringify(payload);
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': event,
          'x-github-delivery': id,
          'x-hub-signature-256': await sign(delivery.secret ?? WEBHOOK_SECRET, body),
        },
      });
      return { status: response.status, text: await response.text(), id };
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
