import { once } from 'node:events';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { Agent as HttpAgent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { SecretRedactor } from '../../domain/redactor.js';
import type { AgentRef, Ledger } from '../../ports/ledger.js';
import type { GatewayCallListener } from './call-event.js';
import { CredentialRegistry, type CredentialGrant } from './credentials.js';
import { handleGatewayRequest, type HandlerContext, type ResolvedUpstream } from './handle-request.js';
import { MemoryLedger } from './memory-ledger.js';
import type { PriceOverrides } from './pricing.js';
import type { ProxyBounds } from './proxy-call.js';
import { GATEWAY_PATHS, type GatewayProvider } from './routes.js';

/** A model endpoint the gateway forwards to: its base URL and the real key (none for local servers). */
export interface GatewayUpstream {
  /** OpenAI: ending in /v1, as OPENAI_BASE_URL. Anthropic: without it, as ANTHROPIC_BASE_URL. */
  baseUrl: string;
  apiKey?: string;
}

/** Limits on each call through the gateway. */
export interface GatewayBounds extends ProxyBounds {
  requestLimitBytes: number;
}

/** Defaults sized for agent CLIs: long contexts with images, answers thinking for minutes. */
export const GATEWAY_BOUNDS: Readonly<GatewayBounds> = {
  requestLimitBytes: 32 * 1024 * 1024,
  answerLimitBytes: 32 * 1024 * 1024,
  timeoutMs: 600_000,
  idleTimeoutMs: 120_000,
};

export interface ModelGatewayOptions {
  upstreams: Record<GatewayProvider, GatewayUpstream>;
  /** Where spending is kept and read (default: this process's memory). */
  ledger?: Ledger;
  /** Prices over the built-in table (a credential's own win over these). */
  prices?: PriceOverrides;
  /** Also listen on this unix socket (a sandbox without network reaches it bind-mounted). */
  socketPath?: string;
  /** TCP port on 127.0.0.1 (default 0: any free one). */
  port?: number;
  bounds?: Partial<GatewayBounds>;
  /** Told every upstream key; the default knows only them. */
  redactor?: SecretRedactor;
  /** Hears every call of every credential. */
  onCall?: GatewayCallListener;
}

/** Base URLs an agent's clients use, one per API. */
export interface GatewayBaseUrls {
  /** For OpenAI clients (OPENAI_BASE_URL, Codex's base_url): ends in /v1. */
  openai: string;
  /** For Anthropic clients (ANTHROPIC_BASE_URL). */
  anthropic: string;
}

/** What an agent is given: a credential worth nothing outside the gateway, and where to use it. */
export interface GatewayCredential {
  /** Send as `Authorization: Bearer …` or `x-api-key: …` (OPENAI_API_KEY, ANTHROPIC_API_KEY). */
  token: string;
  agent: AgentRef;
  /** Over TCP on 127.0.0.1. */
  baseUrls: GatewayBaseUrls;
  /** Over the unix socket: dial `path`, any host name does (null without a socket). */
  socket: { path: string; baseUrls: GatewayBaseUrls } | null;
}

/** The base URLs of the gateway's APIs at an origin (e.g. a relay a sandbox reaches it through). */
export function gatewayBaseUrls(origin: string): GatewayBaseUrls {
  const base = origin.replace(/\/+$/, '');
  return { openai: base + GATEWAY_PATHS.openai, anthropic: base + GATEWAY_PATHS.anthropic };
}

/**
 * The model gateway: every agent's model calls go through it. It speaks the OpenAI chat and
 * responses APIs and the Anthropic messages API on 127.0.0.1 (and a unix socket when given one),
 * takes per-agent credentials, forwards with the real key, meters and prices each call, charges
 * the ledger and refuses calls past a budget. Its owner starts it, issues and revokes
 * credentials, and closes it.
 */
export class ModelGateway {
  private constructor(
    private readonly servers: Server[],
    private readonly agents: Array<HttpAgent | HttpsAgent>,
    private readonly credentials: CredentialRegistry,
    /** http://127.0.0.1:<port> */
    readonly origin: string,
    readonly socketPath: string | null,
  ) {}

  /** Starts listening; resolves once every listener is up. */
  static async start(options: ModelGatewayOptions): Promise<ModelGateway> {
    const redactor = options.redactor ?? new SecretRedactor();
    const agents: Array<HttpAgent | HttpsAgent> = [];
    const resolve = (upstream: GatewayUpstream): ResolvedUpstream => {
      redactor.add(upstream.apiKey);
      // Keep-alive: a call reuses a warm connection instead of paying a TCP and TLS handshake.
      const agent =
        new URL(upstream.baseUrl).protocol === 'https:'
          ? new HttpsAgent({ keepAlive: true, scheduling: 'lifo' })
          : new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
      agents.push(agent);
      return { baseUrl: upstream.baseUrl, ...(upstream.apiKey ? { apiKey: upstream.apiKey } : {}), agent };
    };
    const credentials = new CredentialRegistry();
    const context: HandlerContext = {
      upstreams: { openai: resolve(options.upstreams.openai), anthropic: resolve(options.upstreams.anthropic) },
      credentials,
      ledger: options.ledger ?? new MemoryLedger(),
      prices: options.prices ?? {},
      bounds: { ...GATEWAY_BOUNDS, ...options.bounds },
      redactor,
      ...(options.onCall ? { onCall: options.onCall } : {}),
    };
    const listener = (request: IncomingMessage, response: ServerResponse) =>
      void handleGatewayRequest(request, response, context);
    const tcp = createServer({ noDelay: true }, listener);
    tcp.listen(options.port ?? 0, '127.0.0.1');
    await once(tcp, 'listening');
    const servers = [tcp];
    if (options.socketPath) servers.push(await listenOnSocket(options.socketPath, listener));
    const { port } = tcp.address() as AddressInfo;
    return new ModelGateway(servers, agents, credentials, `http://127.0.0.1:${port}`, options.socketPath ?? null);
  }

  /** A fresh credential for an agent attempt, with the base URLs that reach this gateway. */
  issue(grant: CredentialGrant): GatewayCredential {
    const credential = this.credentials.issue(grant);
    return {
      token: credential.token,
      agent: credential.agent,
      baseUrls: gatewayBaseUrls(this.origin),
      socket: this.socketPath ? { path: this.socketPath, baseUrls: gatewayBaseUrls('http://localhost') } : null,
    };
  }

  /** Ends a credential: its next call is refused. True when it was live. */
  revoke(token: string): boolean {
    return this.credentials.revoke(token);
  }

  /** Lets the process end while the gateway listens (its owner may never get to close it). */
  unref(): void {
    for (const server of this.servers) server.unref();
  }

  /** Stops listening, cuts calls in flight, ends every credential and removes the socket. */
  async close(): Promise<void> {
    this.credentials.revokeAll();
    await Promise.all(
      this.servers.map(async (server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
      }),
    );
    for (const agent of this.agents) agent.destroy();
    if (this.socketPath) await unlink(this.socketPath).catch(() => undefined);
  }
}

async function listenOnSocket(
  path: string,
  listener: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<Server> {
  // A socket left by a gateway that died is in the way; anything else at the path is not ours.
  const existing = await lstat(path).catch(() => null);
  if (existing?.isSocket()) await unlink(path);
  const server = createServer(listener);
  server.listen(path);
  await once(server, 'listening');
  // Only this user (and the sandboxes it starts) may connect; keep the socket in a private directory too.
  await chmod(path, 0o600);
  return server;
}
