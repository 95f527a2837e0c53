import { once } from 'node:events';
import { createServer, request as forward } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One OpenAI base URL in front of two scripted servers. */
export interface OpenAiFront {
  /** Ends in `/v1`, as OPENAI_BASE_URL does. */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * One OpenAI base URL for two scripted servers, as the real API is one: `/v1/responses…` goes to
 * the Responses server (Codex), everything else to the chat-completions one (the planner, the
 * built-in agent). Both are given by origin (`http://127.0.0.1:<port>`).
 */
export async function startOpenAiFront(origins: { chat: string; responses: string }): Promise<OpenAiFront> {
  const server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    const target = new URL(path, path.startsWith('/v1/responses') ? origins.responses : origins.chat);
    const upstream = forward(target, { method: incoming.method, headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    upstream.on('error', () => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end();
    });
    // A client that gives up (a cancelled agent) ends the scripted server's answer too.
    outgoing.on('close', () => upstream.destroy());
    incoming.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
