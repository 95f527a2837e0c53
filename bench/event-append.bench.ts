// Event append throughput of the file CoordStore: one writer, and 8 concurrent writers on 8 agents.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCoordStore } from '../src/adapters/coord/file-store.js';
import { MemoryCoordStore } from '../src/adapters/coord/memory-store.js';
import type { CoordStore } from '../src/ports/coord-store.js';
import { parseRepoConfig } from '../src/config/repo-config.js';
import { median } from './stats.js';

async function measure(store: CoordStore, writers: number, perWriter: number): Promise<number> {
  const runId = `r${Math.random().toString(36).slice(2, 8)}`;
  await store.createRun({
    id: runId,
    repo: '/r',
    origin: { kind: 'local', path: '/r' },
    task: 't',
    baseBranch: 'main',
    baseCommit: 'x',
    state: 'running',
    config: parseRepoConfig(null),
    notes: [],
    createdAt: '',
    updatedAt: '',
  });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let n = 0; n < perWriter; n += 1)
        await store.appendEvent(runId, `agent-${writer}`, { type: 'tool-call', data: { tool: 'read_file', n } });
    }),
  );
  return ((writers * perWriter) / (performance.now() - started)) * 1000;
}

const root = await mkdtemp(join(tmpdir(), 'fanout-bench-events-'));
const file = new FileCoordStore(root);
const rows: Array<[string, CoordStore, number, number]> = [
  ['file, 1 writer x 2000', file, 1, 2000],
  ['file, 8 writers x 500', file, 8, 500],
  ['memory double, 8 x 500', new MemoryCoordStore(), 8, 500],
];
console.log('event append throughput (events/s, median of 3)');
for (const [label, store, writers, perWriter] of rows) {
  const rates = [];
  for (let run = 0; run < 3; run += 1) rates.push(await measure(store, writers, perWriter));
  console.log(`  ${label.padEnd(24)} ${Math.round(median(rates)).toLocaleString('en-US')} events/s`);
}
await rm(root, { recursive: true, force: true });
