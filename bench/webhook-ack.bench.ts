// How fast the App acknowledges webhooks: 50 concurrent signed `/orchestrate` deliveries to the
// real Probot middleware and Fanout's intake (each command stored durably in the file store before
// the answer), from a load generator in another process. The background queue is a counter here:
// this measures the acknowledgement, not the runs. Target: p99 ≤ 100 ms.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { FileCoordStore } from '../src/adapters/coord/file-store.js';
import { createApp } from '../src/app/create-app.js';
import { median, ms } from './stats.js';

const run = promisify(execFile);
const CONCURRENCY = 50;
const ROUNDS = 6;
const SECRET = 'bench-secret';

const root = await mkdtemp(join(tmpdir(), 'fanout-bench-ack-'));
const store = new FileCoordStore(join(root, 'state'));
let enqueued = 0;
const appFn = createApp({
  store,
  queue: { enqueueCommand: () => void (enqueued += 1), enqueueEvent: () => undefined },
  appId: 1,
});
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const Octokit = ProbotOctokit.defaults((defaults: Record<string, unknown>) => ({
  ...defaults,
  retry: { enabled: false },
  throttle: { enabled: false },
}));
const probot = new Probot({ appId: 1, privateKey, secret: SECRET, Octokit, logLevel: 'fatal' });
const middleware = await createNodeMiddleware(appFn, { probot });
const server = createServer(
  (request, response) => void middleware(request, response, () => response.writeHead(404).end()),
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;

const { stdout } = await run(
  process.execPath,
  [new URL('./webhook-load.mjs', import.meta.url).pathname, url, SECRET, String(CONCURRENCY), String(ROUNDS)],
  { maxBuffer: 16 * 1024 * 1024 },
);
const rounds = JSON.parse(stdout) as number[][];
// The first round warms the JIT, the file system and the sockets.
const measured = rounds
  .slice(1)
  .flat()
  .sort((a, b) => a - b);
const p99 = measured[Math.ceil(measured.length * 0.99) - 1] ?? 0;
console.log(
  `webhook acknowledgement, ${CONCURRENCY} concurrent deliveries x ${ROUNDS - 1} rounds (after 1 warm-up), each command stored durably first:`,
);
console.log(`  p50 ${ms(median(measured))}, p99 ${ms(p99)}, max ${ms(measured.at(-1) ?? 0)} (target p99 <= 100 ms)`);
console.log(
  `  warm-up round: p50 ${ms(median(rounds[0] ?? []))}, max ${ms(Math.max(...(rounds[0] ?? [0])))}; commands stored and enqueued: ${enqueued}`,
);
server.close();
await store.close();
await rm(root, { recursive: true, force: true });
