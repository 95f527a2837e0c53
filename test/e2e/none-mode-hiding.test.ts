import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compiledCopy } from '../support/compiled-copy.js';

const exec = promisify(execFile);
const asRoot = process.getuid?.() === 0;

// Run by an unprivileged user: a layout of its own in /tmp, another command's private HOME
// beside it, and one command through the namespace runner as main.ts makes it for `none`.
const SCRIPT = (runner: string, processRunner: string) => `
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
const { NamespaceCommandRunner } = await import(${JSON.stringify(runner)});
const { ProcessCommandRunner } = await import(${JSON.stringify(processRunner)});
const root = mkdtempSync(tmpdir() + '/fanout-none-');
const other = mkdtempSync(tmpdir() + '/fanout-home-');
writeFileSync(other + '/.npmrc', 'otherhomecanary');
mkdirSync(root + '/home');
writeFileSync(root + '/home/id_rsa', 'homecanary');
execFileSync('git', ['init', '-q', root + '/repo']);
writeFileSync(root + '/repo/.env', 'checkoutcanary');
execFileSync('git', ['-C', root + '/repo', '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'init']);
execFileSync('git', ['-C', root + '/repo', 'worktree', 'add', '-q', '--detach', root + '/home/wt']);
const gitDir = execFileSync('git', ['-C', root + '/home/wt', 'rev-parse', '--absolute-git-dir']).toString().trim();
const home = mkdtempSync(tmpdir() + '/fanout-home-');
const runner = new NamespaceCommandRunner(new ProcessCommandRunner(), { mapCurrentUser: true, hiddenPaths: [root + '/home', tmpdir()] });
const probe = 'id -u; cat ' + other + '/.npmrc ' + root + '/home/id_rsa ' + root + '/repo/.env; src=$(awk \\'$5 ~ /\\\\/\\\\.git\\\\/config$/{print $4}\\' /proc/self/mountinfo); echo planted >> "$src" && echo config-copy-written; echo ok > note && cat note; git log --oneline | wc -l';
const result = await runner.run({ argv: ['bash', '-c', probe], cwd: root + '/home/wt', env: { HOME: home }, git: { gitDir, commonDir: root + '/repo/.git' }, timeoutMs: 20000, outputLimit: 20000 });
for (const made of [root, other, home]) rmSync(made, { recursive: true, force: true });
process.stdout.write(JSON.stringify(result));
`;

describe('FANOUT_SANDBOX=none for an unprivileged user', () => {
  (asRoot ? it : it.skip)(
    "hides the home, the checkout and other commands' HOMEs, and still works (not only as root)",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'fanout-none-test-'));
      try {
        await chmod(dir, 0o755);
        // The checkout (and its tsx) may sit where uid 65534 cannot go (a clone under `mktemp -d`):
        // it runs a compiled copy of the runners, with plain node.
        const [runner, processRunner] = await compiledCopy(
          ['src/adapters/command/namespace-runner.ts', 'src/adapters/command/process-runner.ts'],
          process.cwd(),
          join(dir, 'fanout'),
        );
        const script = join(dir, 'probe.mjs');
        await writeFile(script, SCRIPT(runner!, processRunner!));
        await chmod(script, 0o644);
        const { stdout } = await exec(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            'env',
            `HOME=${dir}`,
            `PATH=${process.env.PATH}`,
            process.execPath,
            script,
          ],
          { cwd: dir, maxBuffer: 10_000_000 },
        );
        const result = JSON.parse(stdout) as { exitCode: number; stdout: string; stderr: string };
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^65534\n/);
        for (const canary of ['otherhomecanary', 'homecanary', 'checkoutcanary', 'config-copy-written']) {
          expect(result.stdout).not.toContain(canary);
        }
        expect(result.stdout).toContain('ok\n1\n');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
