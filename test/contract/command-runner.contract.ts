import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { etcEntries } from '../../src/adapters/command/etc-allow-list.js';
import { ProcessCommandRunner as ProcessCommandRunnerForControl } from '../../src/adapters/command/process-runner.js';
import type { CommandRunner } from '../../src/ports/command-runner.js';
import { hostInterfaceAddress, hostService, loopbackProxy } from '../support/host-services.js';
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

    it('shows of /etc only what tools need and of /opt nothing but tools, and the tools still work', async () => {
      // Planted where only root may write (CI runs as root); elsewhere the listing alone is checked.
      const canary = `etccanary-${Math.random().toString(36).slice(2)}`;
      const planted = process.geteuid?.() === 0 ? await mkdtemp('/opt/fanout-contract-') : null;
      const etcFile = planted ? `/etc/${basename(planted)}` : null;
      try {
        if (planted && etcFile) {
          await writeFile(etcFile, canary);
          await writeFile(`${planted}/secret`, canary);
        }
        const probe = shell(
          `cat ${etcFile ?? '/dev/null'} ${planted ? `${planted}/secret` : '/dev/null'} 2>&1; echo '<etc>'; ls -A /etc; echo '</etc>'; echo user:$(id -un); git --version; test -s /etc/ssl/certs/ca-certificates.crt -o ! -e /usr/share/ca-certificates && echo certs-ok`,
        );
        const result = await options.hiding([await tempDir('fanout-hidden-')]).run({
          argv: probe,
          cwd: await tempDir(),
          timeoutMs: 20_000,
          outputLimit: 100_000,
        });
        expect(result.stdout + result.stderr).not.toContain(canary);
        const allowed = new Set(etcEntries().map((path) => basename(path)));
        const listed = /<etc>\n([^]*)<\/etc>/.exec(result.stdout)?.[1]?.split('\n').filter(Boolean) ?? [];
        expect(listed).toContain('passwd');
        expect(listed.filter((name) => !allowed.has(name))).toEqual([]);
        expect(result.stdout).toMatch(/user:\S+/);
        expect(result.stdout).toContain('git version');
        expect(result.stdout).toContain('certs-ok');
      } finally {
        if (planted) await rm(planted, { recursive: true, force: true });
        if (etcFile) await rm(etcFile, { force: true });
      }
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

    it('reaches no network without `network: true`, not even the host loopback', async () => {
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
      } finally {
        server.close();
      }
    });
  });
}

/** Bash lines that connect to each `[host, port]` and print what answered, or why nothing did. */
function probes(targets: ReadonlyArray<readonly [string, number]>): string {
  const attempt = (host: string, port: number) =>
    `if out=$( { exec 3<>/dev/tcp/${host}/${port} && head -1 <&3; } 2>&1 ); then echo "${host}:${port} answered: $out"; else echo "${host}:${port} failed: \${out##*: }"; fi`;
  return targets.map(([host, port]) => attempt(host, port)).join('\n');
}

/** The routing rules refused the connection: at once, never by a timeout. */
function expectUnreachable(stdout: string, target: string): void {
  expect(stdout.split('\n')).toContainEqual(
    expect.stringMatching(
      new RegExp(`^${target.replace(/[.]/g, '\\.')} failed: (Network is unreachable|No route to host)$`),
    ),
  );
}

/**
 * What a networked command (`network: true`, setup) gets from a sandboxing runner: a network of
 * its own with outbound access, and nothing of the host's: no loopback service, no address of its
 * own, no private range, no metadata service, unless `networkAllow` names it; a proxy from the
 * environment stays usable. There is no internet in the tests: that outbound connections work is
 * shown by reaching addresses `networkAllow` opens (they leave through the same path). `makeRunner`
 * makes the runner with `env` as the environment proxies come from.
 */
export function userNetworkContract(name: string, makeRunner: (env?: NodeJS.ProcessEnv) => CommandRunner): void {
  describe(`CommandRunner user network: ${name}`, () => {
    const run = async (argv: string[], networkAllow?: string[], env?: NodeJS.ProcessEnv) =>
      makeRunner(env).run({
        argv,
        cwd: await tempDir(),
        timeoutMs: 30_000,
        outputLimit: 20_000,
        network: true,
        ...(networkAllow ? { networkAllow } : {}),
      });

    it("reaches none of the host's services (its loopback, its own address), no private range and no metadata address, each refused at once", async () => {
      const address = hostInterfaceAddress();
      const loopback = await hostService('127.0.0.1', 'redis-on-loopback-answered');
      const own = await hostService(address, 'host-address-answered');
      try {
        const result = await run(
          shell(
            probes([
              ['127.0.0.1', loopback.port],
              [address, own.port],
              ['169.254.169.254', 80],
              ['10.0.0.1', 80],
              ['192.168.0.1', 80],
              ['fd00:ec2::254', 80],
            ]),
          ),
        );
        expect(result.timedOut).toBe(false);
        expect(result.stdout).not.toContain('answered:');
        // Its loopback is its own: nothing listens there.
        expect(result.stdout).toContain(`127.0.0.1:${loopback.port} failed: Connection refused`);
        // The rest fail on the routing rules, at once, never by waiting for a timeout.
        for (const target of [
          `${address}:${own.port}`,
          '169.254.169.254:80',
          '10.0.0.1:80',
          '192.168.0.1:80',
          'fd00:ec2::254:80',
        ])
          expectUnreachable(result.stdout, target);
      } finally {
        loopback.close();
        own.close();
      }
    });

    it('reaches what networkAllow names, on the port it names only, and cannot change the rules', async () => {
      const address = hostInterfaceAddress();
      const [allowed, other, local, localOther] = await Promise.all([
        hostService(address, 'allowed-answered'),
        hostService(address, 'other-port-answered'),
        hostService('127.0.0.1', 'allowed-loopback-answered'),
        hostService('127.0.0.1', 'other-loopback-answered'),
      ]);
      try {
        const result = await run(
          shell(
            [
              // The command is not the namespace's root: it cannot take the rules away.
              'PATH=$PATH:/usr/sbin:/sbin ip rule flush 2>&1',
              probes([
                [address, allowed.port],
                [address, other.port],
                ['127.0.0.1', local.port],
                ['127.0.0.1', localOther.port],
              ]),
            ].join('\n'),
          ),
          [`${address}:${allowed.port}`, `127.0.0.1:${local.port}`],
        );
        expect(result.stdout).toContain(`${address}:${allowed.port} answered: allowed-answered`);
        expect(result.stdout).toContain(`127.0.0.1:${local.port} answered: allowed-loopback-answered`);
        expectUnreachable(result.stdout, `${address}:${other.port}`);
        expect(result.stdout).toContain(`127.0.0.1:${localOther.port} failed: Connection refused`);
        expect(result.stdout).toContain('Operation not permitted');
      } finally {
        for (const service of [allowed, other, local, localOther]) service.close();
      }
    });

    it("can use an HTTP proxy on the host's loopback given in HTTPS_PROXY and HTTP_PROXY, and nothing else there", async () => {
      const proxy = await loopbackProxy();
      const origin = await hostService('127.0.0.1', 'origin-answered');
      try {
        const tunnel = [
          'for url in "$HTTPS_PROXY" "$HTTP_PROXY"; do',
          '  hostport=${url#http://}',
          '  exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || continue',
          `  printf 'CONNECT 127.0.0.1:${origin.port} HTTP/1.1\\r\\nHost: 127.0.0.1:${origin.port}\\r\\n\\r\\n' >&3`,
          '  while IFS= read -r line <&3 && [ "${line%$\'\\r\'}" != "" ]; do echo "proxy said: $line"; done',
          '  head -1 <&3; exec 3<&-',
          'done',
        ].join('\n');
        const result = await run(shell(`${tunnel}\n${probes([['127.0.0.1', origin.port]])}`), undefined, {
          HTTPS_PROXY: proxy.url,
          HTTP_PROXY: proxy.url,
        });
        expect(result.stdout).toContain('proxy said: HTTP/1.1 200 Connection established');
        expect(result.stdout.match(/^origin-answered$/gm)).toHaveLength(2);
        expect(result.stdout).toContain(`127.0.0.1:${origin.port} failed: Connection refused`);
      } finally {
        proxy.close();
        origin.close();
      }
    });
  });
}
