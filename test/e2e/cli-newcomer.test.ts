import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { main } from '../../src/cli/main.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { captureOutput } from '../support/capture-output.js';
import { tempDir } from '../support/temp-dir.js';

afterEach(() => vi.unstubAllEnvs());

async function cli(...argv: string[]) {
  const output = captureOutput();
  const code = await main(argv, output);
  return { code, stdout: output.stdout(), stderr: output.stderr() };
}

describe('the CLI as a newcomer meets it', () => {
  it("prints a command's usage for --help and the version for --version; the main help describes each command", async () => {
    const help = await cli('run', '--help');
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toContain(
      'Usage: fanout run [--repo DIR] [--base BRANCH] [--agent NAME] [--json] [--hints TEXT] "task"',
    );
    expect(help.stdout).toContain('Without --repo: the directory you ran the command from.');
    expect(help.stdout).toContain(
      "--agent NAME runs this run's agents with that backend (builtin, claude-code, codex) instead of the one .github/fanout.yml names",
    );
    expect((await cli('demo', '--help')).stdout).toContain('--agent NAME runs');
    expect((await cli('resume', '--help')).stdout).toContain('A run keeps the agent backend it started with');
    expect((await cli('fix', '-h')).stdout).toContain('Usage: fanout fix <run-id> <subtask>');
    expect(await cli('--version')).toMatchObject({ code: 0, stdout: 'fanout 0.1.0' });
    const main = await cli('--help');
    expect(main.stdout).toContain('  logs      Shows what an agent did, event by event');
  });

  it('suggests the closest flag or command for a typo', async () => {
    const flag = await cli('run', '--rep', '.', 'a task');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('fanout: unknown option --rep. Did you mean --repo?');
    const agent = await cli('run', '--agent', 'gemini', 'a task');
    expect(agent.code).toBe(2);
    expect(agent.stderr).toContain(
      'fanout: --agent gemini: no such agent backend; Fanout knows builtin, claude-code, codex.',
    );
    const command = await cli('stauts');
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "stauts". Did you mean "status"?');
  });

  it('names a --repo that does not exist, a --base the repository lacks, and refuses a directory that is no repository (exit 2)', async () => {
    const missing = await cli('plan', '--repo', '/nonexistent/checkout', 'a task');
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('--repo /nonexistent/checkout does not exist.');
    const repo = await tempDir('fanout-cli-');
    await createRepository(repo);
    vi.stubEnv('FANOUT_STATE_DIR', join(repo, '..', 'state'));
    const base = await cli('run', '--repo', repo, '--base', 'nosuch', 'a task');
    expect(base).toMatchObject({ code: 2 });
    expect(base.stderr).toContain(`--base nosuch: ${repo} has no branch "nosuch".`);
    const plain = await tempDir('fanout-not-a-repo-');
    const outside = await cli('plan', '--repo', plain, 'a task');
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain('Is it a git repository');
  });

  it('refuses a run whose agent backend cannot run here before recording or planning it (exit 2)', async () => {
    const repo = await tempDir('fanout-cli-agent-');
    await createRepository(repo);
    vi.stubEnv('FANOUT_STATE_DIR', join(repo, '..', 'state'));
    // Nothing listens there: the model is never asked.
    vi.stubEnv('OPENAI_BASE_URL', 'http://127.0.0.1:9/v1');
    vi.stubEnv('FANOUT_SANDBOX', 'none');
    vi.stubEnv('FANOUT_ALLOW_ROOT_NONE', '1');
    vi.stubEnv('FANOUT_CLAUDE_CODE_PATH', join(repo, 'no-such-claude'));
    const refused = await cli('run', '--repo', repo, '--agent', 'claude-code', 'a task');
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/claude/);
    expect(JSON.parse((await cli('status', '--json')).stdout).runs).toEqual([]);
  });

  it("without --repo, works on the directory the user ran npm from (INIT_CWD), not the process's own", async () => {
    const plain = await tempDir('fanout-init-cwd-');
    vi.stubEnv('INIT_CWD', plain);
    const result = await cli('plan', 'a task');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${plain} has no commit "HEAD"`);
  });

  it('rejects OPENAI_BASE_URL without a scheme and FANOUT_LLM_TIMEOUT_MS=2m, naming the variable and the form', async () => {
    vi.stubEnv('OPENAI_BASE_URL', 'localhost:8080/v1');
    vi.stubEnv('FANOUT_LLM_TIMEOUT_MS', '2m');
    const result = await cli('doctor');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('- OPENAI_BASE_URL: must be an http:// or https:// URL');
    expect(result.stderr).toContain('- FANOUT_LLM_TIMEOUT_MS: must be a whole number of milliseconds, such as 120000');
  });

  it('logs --attempt must name an attempt the subtask has', async () => {
    const state = await tempDir('fanout-cli-state-');
    await mkdir(state, { recursive: true });
    vi.stubEnv('FANOUT_STATE_DIR', state);
    const store = new FileCoordStore(state);
    const now = new Date().toISOString();
    await store.createRun({
      id: 'r1',
      repo: state,
      origin: { kind: 'local', path: state },
      task: 't',
      baseBranch: 'main',
      baseCommit: 'a'.repeat(40),
      state: 'failed',
      config: parseRepoConfig(null),
      notes: [],
      createdAt: now,
      updatedAt: now,
    });
    await store.putSubtask({ runId: 'r1', subtaskId: 'one', state: 'failed', attempt: 2, step: 3, updatedAt: now });
    await store.close();
    for (const attempt of ['x', '3', '0']) {
      const result = await cli('logs', 'r1', 'one', '--attempt', attempt);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--attempt ${attempt}: one has attempts 1 to 2.`);
    }
    expect((await cli('logs', 'r1', 'one', '--attempt', '2')).code).toBe(0);
    const listed = JSON.parse((await cli('status', '--json')).stdout) as {
      schemaVersion: number;
      runs: Array<Record<string, unknown>>;
    };
    expect(listed).toMatchObject({ schemaVersion: 1, runs: [{ runId: 'r1', state: 'failed', baseBranch: 'main' }] });
  });

  it('demo --json --keep prints nothing but the JSON report (with its schemaVersion) on stdout', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const result = await cli('demo', '--json', '--keep');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { schemaVersion: number; runId: string };
    expect(report.schemaVersion).toBe(1);
    const kept = /Kept (\S+) /.exec(result.stderr)?.[1];
    expect(kept).toBeDefined();
    await rm(kept!, { recursive: true, force: true });
  }, 60_000);
});
