import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { redactingStore } from '../../src/adapters/coord/redacting-store.js';
import { SecretRedactor } from '../../src/domain/redactor.js';
import { sampleRun, sampleSubtask } from '../contract/coord-store.contract.js';
import { tempDir } from '../support/temp-dir.js';

const API_KEY = 'key-for-a-local-endpoint-0f3c9a';

async function everythingOnDisk(root: string, runId: string): Promise<string> {
  const dir = join(root, 'runs', runId);
  const names = await readdir(dir);
  return (await Promise.all(names.map((name) => readFile(join(dir, name), 'utf8')))).join('\n');
}

describe('redactingStore', () => {
  it('stores a secret in a run record, a failure message and event data as [redacted]', async () => {
    const root = await tempDir();
    const store = redactingStore(new FileCoordStore(root), new SecretRedactor([API_KEY]));
    const echoed = `Incorrect API key provided: ${API_KEY}`;

    await store.createRun({ ...sampleRun('r1'), task: `use ${API_KEY}` });
    await store.updateRun('r1', { state: 'failed', error: echoed });
    await store.putSubtask({ ...sampleSubtask('r1', 'a'), summary: echoed });
    await store.updateSubtask('r1', 'a', { state: 'failed', failureReason: 'model-error', failureMessage: echoed });
    const event = await store.appendEvent('r1', 'a', {
      type: 'agent-failed',
      data: { message: echoed, nested: { list: [API_KEY] } },
    });

    const disk = await everythingOnDisk(root, 'r1');
    expect(disk).not.toContain(API_KEY);
    expect(disk).toContain('Incorrect API key provided: [redacted]');
    expect(await store.getRun('r1')).toMatchObject({
      id: 'r1',
      task: 'use [redacted]',
      error: 'Incorrect API key provided: [redacted]',
    });
    expect(await store.getSubtask('r1', 'a')).toMatchObject({
      runId: 'r1',
      subtaskId: 'a',
      failureMessage: 'Incorrect API key provided: [redacted]',
    });
    expect(event.data).toEqual({ message: 'Incorrect API key provided: [redacted]', nested: { list: ['[redacted]'] } });
    await store.close();
  });

  it('redacts a token learned after the store was made (an installation token)', async () => {
    const root = await tempDir();
    const redactor = new SecretRedactor();
    const store = redactingStore(new FileCoordStore(root), redactor);
    await store.createRun(sampleRun('r2'));
    redactor.add('v1.installation0123456789abcdef');
    await store.appendEvent('r2', 'a', {
      type: 'tool-call',
      data: { output: 'remote: https://x-access-token:v1.installation0123456789abcdef@github.com' },
    });
    expect(await everythingOnDisk(root, 'r2')).not.toContain('v1.installation0123456789abcdef');
    await store.close();
  });
});
