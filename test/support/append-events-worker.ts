// Child process for the cross-process test: appends COUNT events to one agent's log.
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';

const [root, runId, agentId, count, writer] = process.argv.slice(2) as [string, string, string, string, string];
const store = new FileCoordStore(root);
for (let n = 0; n < Number(count); n += 1)
  await store.appendEvent(runId, agentId, { type: 'tool-call', data: { writer: Number(writer), n } });
await store.close();
