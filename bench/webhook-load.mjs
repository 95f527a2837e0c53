// Load generator for webhook-ack.bench.ts, in its own process so that its work does not slow the
// server it measures: sends ROUNDS rounds of N concurrent signed deliveries over keep-alive, and
// prints each delivery's latency in milliseconds as JSON.
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

const [url, secret, concurrency, rounds] = [
  process.argv[2],
  process.argv[3],
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples');
const base = definitions
  .find((definition) => definition.name === 'issue_comment')
  .examples.find((example) => example.action === 'created');
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
let serial = 0;

async function deliver() {
  serial += 1;
  const payload = {
    ...base,
    installation: { id: 1 },
    comment: { ...base.comment, id: 10_000_000 + serial, body: `/orchestrate Task number ${serial}` },
  };
  const body = JSON.stringify(payload);
  const headers = {
    'content-type': 'application/json',
    'x-github-event': 'issue_comment',
    'x-github-delivery': `bench-${process.pid}-${serial}`,
    'x-hub-signature-256': await sign(secret, body),
  };
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
  return performance.now() - started;
}

const latencies = [];
for (let round = 0; round < rounds; round += 1)
  latencies.push(await Promise.all(Array.from({ length: concurrency }, deliver)));
agent.destroy();
console.log(JSON.stringify(latencies));
