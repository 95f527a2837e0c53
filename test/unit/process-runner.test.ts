import { describe, expect, it, vi } from 'vitest';
import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { tempDir } from '../support/temp-dir.js';

const runner = new ProcessCommandRunner();
const shell = (line: string) => ['bash', '-c', line];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ProcessCommandRunner', () => {
  it('returns the exit code, stdout and stderr', async () => {
    const result = await runner.run({ argv: shell('echo out; echo err >&2; exit 3'), cwd: await tempDir(), timeoutMs: 5_000, outputLimit: 1_000 });
    expect(result).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', timedOut: false, truncated: false });
  });

  it('kills a hanging command together with the processes it started', async () => {
    const dir = await tempDir();
    const result = await runner.run({ argv: shell('sleep 300 & echo $! > child.pid; sleep 300'), cwd: dir, timeoutMs: 500, outputLimit: 1_000 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(5_000);
    const { readFile } = await import('node:fs/promises');
    const childPid = Number(await readFile(`${dir}/child.pid`, 'utf8'));
    await vi.waitFor(() => expect(alive(childPid)).toBe(false), { timeout: 3_000 });
  });

  it('does not wait for a background process that keeps the output open', async () => {
    const result = await runner.run({ argv: shell('(sleep 300 &) ; echo done'), cwd: await tempDir(), timeoutMs: 10_000, outputLimit: 1_000 });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n', timedOut: false });
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('keeps secrets out of the command environment', async () => {
    vi.stubEnv('GITHUB_TOKEN', 'ghs_supersecret');
    vi.stubEnv('OPENAI_API_KEY', 'sk-supersecret');
    vi.stubEnv('PRIVATE_KEY', '-----BEGIN RSA PRIVATE KEY-----');
    vi.stubEnv('WEBHOOK_SECRET', 'hook');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'aws');
    try {
      const result = await runner.run({ argv: ['env'], cwd: await tempDir(), timeoutMs: 5_000, outputLimit: 100_000, env: { HOME: '/tmp/home', NPM_TOKEN: 'npm_secret' } });
      expect(result.stdout).toContain('HOME=/tmp/home');
      expect(result.stdout).toContain('PATH=');
      for (const secret of ['ghs_supersecret', 'sk-supersecret', 'PRIVATE KEY', 'hook', 'aws', 'npm_secret']) expect(result.stdout).not.toContain(secret);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('caps output and keeps its tail', async () => {
    const result = await runner.run({ argv: shell('seq 1 100000'), cwd: await tempDir(), timeoutMs: 5_000, outputLimit: 2_000 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThan(2_100);
    expect(result.stdout.startsWith('1\n2\n')).toBe(true);
    expect(result.stdout.trimEnd().endsWith('99999\n100000')).toBe(true);
  });
});
