import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A TCP service on the host that answers every connection with `answer` and closes it. */
export async function hostService(host: string, answer: string): Promise<{ port: number; close: () => void }> {
  const server = createServer((socket) => socket.end(`${answer}\n`));
  return { port: await listen(server, host), close: () => server.close() };
}

/**
 * A tiny HTTP proxy on the host's loopback, as a company proxy or a local cntlm would be: CONNECT
 * tunnels (what npm uses for https) and absolute-URI GETs, to any destination.
 */
export async function loopbackProxy(): Promise<{ url: string; close: () => void }> {
  const server = createHttpServer((incoming, outgoing) => {
    const forwarded = httpRequest(
      incoming.url ?? '',
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  server.on('connect', (incoming, client) => {
    const [host = '', port = ''] = (incoming.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
    client.on('error', () => upstream.destroy());
  });
  const port = await listen(server, '127.0.0.1');
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** One of this machine's own non-loopback IPv4 addresses (what a host service bound to 0.0.0.0 also listens on). */
export function hostInterfaceAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;
  if (!address) throw new Error('this test needs a network interface with an IPv4 address besides the loopback');
  return address;
}

function listen(server: Server | ReturnType<typeof createHttpServer>, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as AddressInfo).port));
  });
}
