import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import type { WebhookEventMap, WebhookEventName } from '@octokit/webhooks-types';

// A bare ESM import of the JSON fails at runtime; createRequire loads it (see the research note §2).
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

/** The installation GitHub puts in every delivery to an installed App (many examples lack it). */
export const EXAMPLE_INSTALLATION = { id: 1, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==' };

/** A private copy of GitHub's first example payload for `name` that `pick` accepts, with an installation. */
export function example<Name extends WebhookEventName>(
  name: Name,
  pick: (payload: WebhookEventMap[Name]) => boolean = () => true,
): WebhookEventMap[Name] {
  const definition = definitions.find((candidate) => candidate.name === name) as WebhookDefinition<Name> | undefined;
  const found = definition?.examples.find(pick);
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${name} example that fits`);
  return { ...structuredClone(found), installation: EXAMPLE_INSTALLATION };
}
