import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { ProcessCommandRunner as ProcessCommandRunnerForControl } from '../../src/adapters/command/process-runner.js';
import type { CommandRunner } from '../../src/ports/command-runner.js';
import { tempDir } from '../support/temp-dir.js';

const shell = (line: string) => ['bash', '-c', line];

/** Live processes running `sleep <marker>` (zombies excluded). */
function sleepers(marker: string): string[] {
  return execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\S+)\s+(.*)$/.exec(line))
    .filter(
      (match): match is RegExpExecArray =>
        match !== null && match[2] === `sleep ${marker}` && !match[1]!.startsWith('Z'),
    )
    .map((match) => match[0]);
}

/** What every CommandRunner must do, sandboxed or not. */
export function commandRunnerContract(name: string, makeRunner: () => CommandRunner): void {
  describe(`CommandRunner contract: ${name}`, () => {
    it('returns the exit code, stdout and stderr, and writes in its working directory', async () => {
      const dir = await tempDir();
      const result = await makeRunner().run({
        argv: shell('echo out; echo err >&2; echo made > file.txt; exit 3'),
        cwd: dir,
        timeoutMs: 10_000,
        outputLimit: 1_000,
      });
      expect(result).toMatchObject({
        exitCode: 3,
        stdout: 'out\n',
        stderr: 'err\n',
        timedOut: false,
        truncated: false,
      });
      expect(await readFile(`${dir}/file.txt`, 'utf8')).toBe('made\n');
    });

    it('hands stdout over as it arrives, while the command still runs (an agent CLI event stream)', async () => {
      const dir = await tempDir();
      const seen: string[] = [];
      // The command waits for a file the test writes only once the first line has arrived.
      const result = await makeRunner().run({
        argv: shell('echo first; while [ ! -e go ]; do sleep 0.05; done; echo second'),
        cwd: dir,
        timeoutMs: 20_000,
        outputLimit: 1_000,
        onStdout: (chunk) => {
          seen.push(chunk);
          if (chunk.includes('first')) void writeFile(`${dir}/go`, '');
        },
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'first\nsecond\n', timedOut: false });
      expect(seen.join('')).toBe('first\nsecond\n');
    });

    it('returns all a command printed, even with many commands at once', async () => {
      const dir = await tempDir();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          makeRunner().run({
            argv: shell(`seq 1 200; echo done-${n}`),
            cwd: dir,
            timeoutMs: 20_000,
            outputLimit: 100_000,
          }),
        ),
      );
      results.forEach((result, n) =>
        expect(result.stdout.endsWith(`200\ndone-${n}\n`), result.stdout.slice(-40)).toBe(true),
      );
    });

    it('kills a hanging command together with the processes it started', async () => {
      const dir = await tempDir();
      // A duration no other process uses, so `ps` finds exactly this command's children.
      const marker = `300.${Math.floor(Math.random() * 1e6)}`;
      const running = makeRunner().run({
        argv: shell(`sleep ${marker} & echo started > started.txt; sleep ${marker}`),
        cwd: dir,
        timeoutMs: 3_000,
        outputLimit: 1_000,
      });
      let settled = false;
      void running.then(() => (settled = true));
      // The background sleep runs before the marker file is written: seen alive, it is the child
      // that must die with the command (the foreground one may not have started on a busy machine).
      await vi.waitFor(() => expect(existsSync(`${dir}/started.txt`)).toBe(true), { timeout: 10_000 });
      await vi.waitFor(() => expect(settled || sleepers(marker).length >= 1).toBe(true), { timeout: 10_000 });
      expect(settled, 'the command was killed before its child could be seen; the test proves nothing').toBe(false);
      const result = await running;
      expect(result.timedOut).toBe(true);
      expect(result.durationMs).toBeLessThan(10_000);
      await vi.waitFor(() => expect(sleepers(marker)).toEqual([]), { timeout: 4_000 });
    });

    it('does not wait for a background process that outlives the command', async () => {
      const result = await makeRunner().run({
        argv: shell('(sleep 300 &) ; echo done'),
        cwd: await tempDir(),
        timeoutMs: 10_000,
        outputLimit: 1_000,
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'done\n', timedOut: false });
      expect(result.durationMs).toBeLessThan(5_000);
    });

    it('says truthfully whether a process a command started can outlive it', async () => {
      const runner = makeRunner();
      const marker = `302.${Math.floor(Math.random() * 1e6)}`;
      const result = await runner.run({
        argv: shell(`setsid sleep ${marker} </dev/null >/dev/null 2>&1 & sleep 0.2; echo started`),
        cwd: await tempDir(),
        timeoutMs: 10_000,
        outputLimit: 1_000,
      });
      expect(result.stdout).toBe('started\n');
      if (runner.confinesProcesses) {
        await vi.waitFor(() => expect(sleepers(marker)).toEqual([]), { timeout: 5_000 });
        return;
      }
      // Not confined: the leftover is really there (and is stopped here).
      expect(sleepers(marker).length).toBeGreaterThan(0);
      execFileSync('pkill', ['-KILL', '-f', `^sleep ${marker}$`]);
    });

    it('keeps secrets out of the command environment', async () => {
      vi.stubEnv('GITHUB_TOKEN', 'ghs_supersecret');
      vi.stubEnv('OPENAI_API_KEY', 'sk-supersecret');
      vi.stubEnv('PRIVATE_KEY', '-----BEGIN RSA PRIVATE KEY-----');
      vi.stubEnv('WEBHOOK_SECRET', 'hook-secret');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'aws-secret');
      try {
        const home = await tempDir('fanout-home-');
        const result = await makeRunner().run({
          argv: ['env'],
          cwd: await tempDir(),
          timeoutMs: 10_000,
          outputLimit: 100_000,
          env: { HOME: home, NPM_TOKEN: 'npm_secret' },
        });
        expect(result.stdout).toContain(`HOME=${home}`);
        expect(result.stdout).toContain('PATH=');
        for (const secret of [
          'ghs_supersecret',
          'sk-supersecret',
          'PRIVATE KEY',
          'hook-secret',
          'aws-secret',
          'npm_secret',
        ])
          expect(result.stdout).not.toContain(secret);
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('caps output and keeps its tail', async () => {
      const result = await makeRunner().run({
        argv: shell('seq 1 100000'),
        cwd: await tempDir(),
        timeoutMs: 10_000,
        outputLimit: 2_000,
      });
      expect(result.truncated).toBe(true);
      expect(result.stdout.length).toBeLessThan(2_100);
      expect(result.stdout.startsWith('1\n2\n')).toBe(true);
      expect(result.stdout.trimEnd().endsWith('99999\n100000')).toBe(true);
    });
  });
}

/**
 * What a runner that isolates commands must add: no view of other processes or of the user's home
 * and checkout (`hiding` makes one that hides these paths), and nothing it starts survives it.
 */
export function isolationContract(
  name: string,
  makeRunner: () => CommandRunner,
  options: { hiding: (hiddenPaths: string[]) => CommandRunner },
): void {
  describe(`CommandRunner isolation: ${name}`, () => {
    it("shows the worktree, its HOME and git directories, and nothing of the user's home or checkout", async () => {
      const root = await tempDir('fanout-hiding-');
      const git = (cwd: string, ...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
          cwd,
          encoding: 'utf8',
        }).trim();
      execFileSync('mkdir', ['-p', `${root}/home/.ssh`, `${root}/repo`, `${root}/home/state`, `${root}/tmp-home`]);
      await writeFile(`${root}/home/.ssh/id_rsa`, 'homecanary-ssh');
      await writeFile(`${root}/home/.gitconfig`, '[user]\n\tname = homecanary-gitconfig\n');
      git(`${root}/repo`, 'init', '-q', '--initial-branch=main');
      await writeFile(`${root}/repo/README.md`, '# readme\n');
      git(`${root}/repo`, 'add', 'README.md');
      git(`${root}/repo`, 'commit', '-qm', 'init');
      // A stash of an untracked file, packed by `git gc` into packed-refs.
      await writeFile(`${root}/repo/stashed.txt`, 'stashcanary');
      git(`${root}/repo`, 'stash', '-u', '-q');
      git(`${root}/repo`, 'pack-refs', '--all');
      await writeFile(`${root}/repo/.env`, 'checkoutcanary-dotenv');
      git(`${root}/repo`, 'remote', 'add', 'origin', 'https://x-access-token:checkoutcanaryremote@github.com/o/r.git');
      git(`${root}/repo`, 'worktree', 'add', '-q', '--detach', `${root}/home/state/wt`);
      const gitDir = git(`${root}/home/state/wt`, 'rev-parse', '--absolute-git-dir');
      const probe = shell(
        `cat ${root}/home/.ssh/id_rsa ${root}/home/.gitconfig ${root}/repo/.env ${root}/repo/.git/config; git config --list; ls -a ${root}/home ${root}/repo; echo written > note.txt && cat note.txt; echo ok > "$HOME/h" && cat "$HOME/h"; git log --oneline | wc -l; git show 'refs/stash^3:stashed.txt' 2>/dev/null`,
      );
      // Control: a plain process reads them all, so the assertions below can fail.
      const request = {
        argv: probe,
        cwd: `${root}/home/state/wt`,
        env: { HOME: `${root}/tmp-home` },
        git: { gitDir, commonDir: `${root}/repo/.git` },
        timeoutMs: 20_000,
        outputLimit: 100_000,
      };
      const control = await new ProcessCommandRunnerForControl().run(request);
      expect(control.stdout).toContain('checkoutcanary-dotenv');
      expect(control.stdout).toContain('stashcanary');
      const result = await options.hiding([`${root}/home`]).run(request);
      const seen = result.stdout + result.stderr;
      for (const canary of [
        'homecanary-ssh',
        'homecanary-gitconfig',
        'checkoutcanary-dotenv',
        'checkoutcanaryremote',
        'stashcanary',
      ])
        expect(seen).not.toContain(canary);
      // The worktree and HOME are writable, and git works there.
      expect(result.stdout).toContain('written\nok\n1\n');
      // The shared git directory is read-only: no hook path planted for the user's next commit.
      const plant = await options
        .hiding([`${root}/home`])
        .run({ ...request, argv: shell('git config core.hooksPath /tmp/evil-hooks 2>/dev/null || echo refused') });
      expect(plant.stdout).toBe('refused\n');
      expect(await readFile(`${root}/repo/.git/config`, 'utf8')).not.toContain('evil-hooks');
      expect(await readFile(`${root}/home/state/wt/note.txt`, 'utf8')).toBe('written\n');
    });

    it('kills setsid and nohup children when the command ends', async () => {
      const dir = await tempDir();
      const marker = `301.${Math.floor(Math.random() * 1e6)}`;
      const result = await makeRunner().run({
        argv: shell(
          `setsid sleep ${marker} </dev/null >/dev/null 2>&1 & nohup sleep ${marker} </dev/null >/dev/null 2>&1 & sleep 0.2; echo started`,
        ),
        cwd: dir,
        timeoutMs: 10_000,
        outputLimit: 1_000,
      });
      expect(result).toMatchObject({ exitCode: 0, stdout: 'started\n' });
      await vi.waitFor(() => expect(sleepers(marker)).toEqual([]), { timeout: 5_000 });
    });

    it("cannot read another process's environment through /proc or ps", async () => {
      const canary = `canary-${Math.random().toString(36).slice(2)}`;
      const holder = spawn('sleep', ['60'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FANOUT_TEST_CANARY: canary },
        stdio: 'ignore',
      });
      try {
        const probe = shell('cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; ps eww -e 2>&1; ls /proc');
        // Control: a plain process sees the holder, so the assertion below can fail.
        const control = await new ProcessCommandRunnerForControl().run({
          argv: probe,
          cwd: await tempDir(),
          timeoutMs: 10_000,
          outputLimit: 1_000_000,
        });
        expect(control.stdout).toContain(canary);
        const result = await makeRunner().run({
          argv: probe,
          cwd: await tempDir(),
          timeoutMs: 10_000,
          outputLimit: 1_000_000,
        });
        expect(result.stdout).not.toContain(canary);
        expect(result.stdout).not.toContain(String(process.pid));
      } finally {
        holder.kill('SIGKILL');
      }
    });

    it('reaches no network, not even the host loopback, unless the request allows it', async () => {
      const server = createServer((_request, response) => response.end('host-answered'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const probe = shell(`exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3`);
        const denied = await makeRunner().run({
          argv: probe,
          cwd: await tempDir(),
          timeoutMs: 10_000,
          outputLimit: 10_000,
        });
        expect(denied.stdout).not.toContain('host-answered');
        const allowed = await makeRunner().run({
          argv: probe,
          cwd: await tempDir(),
          timeoutMs: 10_000,
          outputLimit: 10_000,
          network: true,
        });
        expect(allowed.stdout).toContain('host-answered');
      } finally {
        server.close();
      }
    });
  });
}
