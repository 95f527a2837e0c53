// The model gateway's added latency per model call: the same chat completion sent straight to a
// loopback upstream (the scripted OpenAI-compatible server) and through the gateway, alternately,
// whole and streamed, over keep-alive connections. Target: under 2 ms added at p50.
import { Agent, request } from 'node:http';
import { ModelGateway } from '../src/adapters/gateway/model-gateway.js';
import { startScriptedServer } from '../src/scripted-model/server.js';
import { median, ms } from './stats.js';

const CALLS = 1000;
const WARM_UP = 100;
const REPLY = { content: 'A short answer of a few dozen tokens, as a tool-calling agent gets between its steps.' };

const upstream = await startScriptedServer({ script: () => REPLY });
const gateway = await ModelGateway.start({
  upstreams: {
    openai: { baseUrl: upstream.baseUrl, apiKey: 'sk-bench-real-key-0123456789' },
    anthropic: { baseUrl: 'http://127.0.0.1:9' },
  },
});
const credential = gateway.issue({ runId: 'bench', subtaskId: 'st', attempt: 1 });
const client = new Agent({ keepAlive: true });

// One call, to the last byte of the answer.
function call(baseUrl: string, stream: boolean): Promise<number> {
  const body = JSON.stringify({
    model: 'gpt-4.1-mini',
    stream,
    messages: [
      { role: 'system', content: 'You are a coding agent. '.repeat(40) },
      { role: 'user', content: 'Next step?' },
    ],
  });
  const url = new URL(`${baseUrl}/chat/completions`);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent: client,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential.token}` },
      },
      (response) => {
        // A refused or failed call would measure nothing worth having.
        if (response.statusCode !== 200) reject(new Error(`${url.href} answered ${response.statusCode}`));
        response.resume();
        response.on('end', () => resolve(performance.now() - started));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length * 0.99) - 1] ?? 0;
}

console.log(
  `model call latency, ${CALLS} calls each (after ${WARM_UP} warm-up), direct and through the gateway alternately:`,
);
for (const stream of [false, true]) {
  const direct: number[] = [];
  const through: number[] = [];
  for (let n = 0; n < WARM_UP + CALLS; n += 1) {
    const straight = await call(upstream.baseUrl, stream);
    const gated = await call(credential.baseUrls.openai, stream);
    if (n < WARM_UP) continue;
    direct.push(straight);
    through.push(gated);
  }
  const added = median(through) - median(direct);
  console.log(`  ${stream ? 'streamed' : 'whole   '}: direct p50 ${ms(median(direct))}, p99 ${ms(p99(direct))};`);
  console.log(`            gateway p50 ${ms(median(through))}, p99 ${ms(p99(through))};`);
  console.log(`            added at p50 ${ms(added)} (target < 2 ms), at p99 ${ms(p99(through) - p99(direct))}`);
}

client.destroy();
await gateway.close();
await upstream.close();
