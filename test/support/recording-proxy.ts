import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a client sent through the proxy: a plain-HTTP URL, or a CONNECT target (`host:port`). */
export interface ProxiedRequest {
  method: string;
  target: string;
}

/** A running recording proxy. */
export interface RecordingProxy {
  /** For HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 that records every request a client sends through it, forwards
 * plain-HTTP requests to loopback targets (so a client that proxies its model calls still reaches
 * the scripted server) and refuses everything else, CONNECT tunnels included (the way a host
 * without internet fails them, but at once and visibly).
 */
export async function startRecordingProxy(): Promise<RecordingProxy> {
  const requests: ProxiedRequest[] = [];
  const server = createServer((req, res) => {
    const target = req.url ?? '';
    requests.push({ method: req.method ?? 'GET', target });
    const url = URL.canParse(target) ? new URL(target) : null;
    if (!url || url.protocol !== 'http:' || url.hostname !== '127.0.0.1') {
      res.writeHead(403).end();
      return;
    }
    const upstream = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket) => {
    requests.push({ method: 'CONNECT', target: req.url ?? '' });
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
