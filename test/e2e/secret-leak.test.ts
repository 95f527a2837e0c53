import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { startScriptedServer } from '../../src/scripted-model/server.js';
import { captureOutput } from '../support/capture-output.js';
import { tempDir } from '../support/temp-dir.js';

afterEach(() => vi.unstubAllEnvs());

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await allFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

it('an endpoint that echoes configured secrets in an error body: none is printed or stored, and state files are private', async () => {
  const key = 'local-endpoint-key-5f2b9c1e';
  const other = 'webhook-secret-7d1e0b2a';
  const server = await startScriptedServer({
    script: () => ({ error: { status: 400, message: `Incorrect API key provided: ${key}; hook ${other}` } }),
  });
  const repo = await tempDir();
  const state = join(await tempDir(), 'state');
  await createRepository(repo);
  vi.stubEnv('OPENAI_BASE_URL', server.baseUrl);
  vi.stubEnv('OPENAI_API_KEY', key);
  vi.stubEnv('WEBHOOK_SECRET', other);
  vi.stubEnv('FANOUT_MODEL', 'scripted-model');
  vi.stubEnv('FANOUT_STATE_DIR', state);
  vi.stubEnv('FANOUT_LLM_MAX_RETRIES', '0');
  vi.stubEnv('FANOUT_SANDBOX', 'none');
  vi.stubEnv('FANOUT_ALLOW_ROOT_NONE', '1');
  const output = captureOutput();
  const code = await main(['run', '--repo', repo, 'Do', 'it'], output);
  await server.close();
  const printed = output.stdout() + output.stderr();
  expect(code).toBe(1);
  // The endpoint's words still reach the user, with the secrets cut out.
  expect(printed).toContain('Incorrect API key provided: [redacted]');
  expect(printed).not.toContain(key);
  expect(printed).not.toContain(other);
  expect(((await stat(join(state, 'worktrees', 'pool'))).mode & 0o777).toString(8)).toBe('700');
  for (const file of await allFiles(state)) {
    const text = await readFile(file, 'utf8');
    // Worktrees and prepared environments hold the repository's own files (its modes), in private directories.
    const repositoryFiles =
      file.startsWith(join(state, 'worktrees')) || /\/environments\/[^/]+\/[^/]+\/tree\//.test(file);
    if (!repositoryFiles) expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
    expect(text, file).not.toContain(key);
    expect(text, file).not.toContain(other);
  }
});
