import { afterEach } from 'vitest';
import type { GatewayCallEvent } from '../../src/adapters/gateway/call-event.js';
import { ModelGateway, type ModelGatewayOptions } from '../../src/adapters/gateway/model-gateway.js';

/** The real keys the gateway's tests hand it (shaped like real ones, so a leak would show). */
export const REAL_KEYS = {
  openai: 'sk-real-openai-key-0123456789abcdefghij',
  anthropic: 'sk-ant-real-anthropic-key-0123456789abcdef',
} as const;

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

/** Closes `item` after the test. */
export function closeAfterTest<T extends { close(): Promise<void> }>(item: T): T {
  open.push(item);
  return item;
}

/** A gateway in front of the given upstreams (with the real keys), its events collected; closed after the test. */
export async function startTestGateway(
  upstreams: { openai: string; anthropic: string },
  options: Partial<ModelGatewayOptions> = {},
): Promise<{ gateway: ModelGateway; events: GatewayCallEvent[]; nextEvent: () => Promise<GatewayCallEvent> }> {
  const events: GatewayCallEvent[] = [];
  const waiting: Array<(event: GatewayCallEvent) => void> = [];
  let read = 0;
  const gateway = await ModelGateway.start({
    upstreams: {
      openai: { baseUrl: upstreams.openai, apiKey: REAL_KEYS.openai },
      anthropic: { baseUrl: upstreams.anthropic, apiKey: REAL_KEYS.anthropic },
    },
    ...options,
    onCall: (event) => {
      events.push(event);
      waiting.shift()?.(event);
    },
  });
  closeAfterTest(gateway);
  // Events come once the answer has ended, a moment after the client has it: wait, never sleep.
  const nextEvent = () =>
    new Promise<GatewayCallEvent>((resolve) => {
      const index = read++;
      if (index < events.length) return resolve(events[index]!);
      waiting.push(resolve);
    });
  return { gateway, events, nextEvent };
}
