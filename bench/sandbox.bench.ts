// What confinement costs per command: the same commands run plain, in namespaces (FANOUT_SANDBOX=none)
// and in the bubblewrap sandbox, and in the sandbox with resource limits (a cgroup per command,
// rlimits, the disk watcher) as `fanout run` composes it, inside a real worktree, interleaved so
// machine noise hits all alike. The last line is what the limits add: bwrap+limits over bwrap.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { etcEntries } from '../src/adapters/command/etc-allow-list.js';
import { bwrapArguments } from '../src/adapters/command/bwrap-arguments.js';
import { BwrapCommandRunner, defaultHiddenPaths, SYSTEM_PATHS } from '../src/adapters/command/bwrap-runner.js';
import { NamespaceCommandRunner, namespacePrefix } from '../src/adapters/command/namespace-runner.js';
import { ProcessCommandRunner } from '../src/adapters/command/process-runner.js';
import { LimitedCommandRunner } from '../src/adapters/command/resource-limits.js';
import { sandboxSupport, userNetworkSupport } from '../src/adapters/command/sandbox-support.js';
import { systemProgram } from '../src/adapters/system-programs.js';
import { toolchainPaths } from '../src/adapters/command/toolchain-paths.js';
import { GitWorkspace } from '../src/adapters/workspace/git-workspace.js';
import { createRepository, SAMPLE_FILES } from '../src/demo/sample-repo.js';
import type { CommandRequest, CommandRunner } from '../src/ports/command-runner.js';
import { median, ms } from './stats.js';

// Odd, so the median is one measured run; enough that a busy machine's noise evens out between runners.
const RUNS = 41;
const COMMANDS: Record<string, string> = {
  true: 'true',
  'git status': 'git status --porcelain',
  'node -e 0': 'node -e 0',
};

const root = await mkdtemp(join(tmpdir(), 'fanout-bench-sandbox-'));
const repo = join(root, 'repo');
await createRepository(repo, SAMPLE_FILES);
const workspace = new GitWorkspace();
const worktree = await workspace.createWorktree({
  repoDir: repo,
  path: join(root, 'wt'),
  branch: 'bench',
  baseCommit: await workspace.resolveCommit(repo, 'HEAD'),
});
const support = sandboxSupport();
const plain = new ProcessCommandRunner();
const runners: Array<[string, CommandRunner]> = [['plain', plain]];
const toolPaths = toolchainPaths(process.env.PATH, {
  home: homedir(),
  systemPaths: SYSTEM_PATHS,
  extra: [dirname(process.execPath)],
});
// As main.ts makes it: the home, the checkout and the credential files covered in the command's mount namespace.
if (support.namespaces)
  runners.push([
    'namespaces',
    new NamespaceCommandRunner(plain, {
      mapCurrentUser: support.mapCurrentUser,
      hiddenPaths: [homedir(), tmpdir(), ...defaultHiddenPaths()],
      toolPaths,
    }),
  ]);
const limited = new LimitedCommandRunner(plain);
if (support.bwrap) {
  for (const [name, inner] of [
    ['bwrap', plain],
    ['bwrap+limits', limited],
  ] as const)
    runners.push([
      name,
      new BwrapCommandRunner(inner, {
        hiddenPaths: defaultHiddenPaths(),
        toolPaths,
        canDisableUserns: support.bwrapDisablesUserns,
      }),
    ]);
}

console.log(`per-command wall time, median of ${RUNS} (runners: ${runners.map(([name]) => name).join(', ')})`);
console.log(`limits: ${limited.describe()}`);
const limitsCost: string[] = [];
for (const [label, line] of Object.entries(COMMANDS)) {
  const times = new Map<string, number[]>(runners.map(([name]) => [name, []]));
  for (let run = 0; run < RUNS; run += 1) {
    for (const [name, runner] of run % 2 === 0 ? runners : [...runners].reverse()) {
      const started = performance.now();
      const result = await runner.run({
        argv: ['bash', '-c', line],
        cwd: worktree.path,
        timeoutMs: 30_000,
        outputLimit: 10_000,
        git: { gitDir: worktree.gitDir, commonDir: worktree.commonDir },
      });
      if (result.exitCode !== 0) throw new Error(`${name}: ${line} failed: ${result.stderr}`);
      times.get(name)!.push(performance.now() - started);
    }
  }
  const base = median(times.get('plain')!);
  const cells = runners.map(
    ([name]) =>
      `${name} ${ms(median(times.get(name)!))}${name === 'plain' ? '' : ` (x${(median(times.get(name)!) / base).toFixed(2)})`}`,
  );
  console.log(`  ${label.padEnd(11)} ${cells.join(', ')}`);
  if (times.has('bwrap+limits'))
    limitsCost.push(`${label} x${(median(times.get('bwrap+limits')!) / median(times.get('bwrap')!)).toFixed(2)}`);
}
if (limitsCost.length > 0)
  console.log(`cost of the limits per command (bwrap+limits / bwrap): ${limitsCost.join(', ')}`);
await networkedCosts();
await workspace.removeWorktree(worktree);
await rm(root, { recursive: true, force: true });

/**
 * What a network of its own costs a networked command (setup, `network: true`): pasta and the
 * routing rules, against the host's network as such commands had it before. There is no internet
 * here, so the transfer goes to a service on this machine's own address that `networkAllow` opens
 * (the way every outbound connection leaves: through pasta's sockets).
 */
async function networkedCosts(): Promise<void> {
  if (!userNetworkSupport().ok) {
    console.log('networked commands: pasta or ip missing, not measured (apt-get install passt)');
    return;
  }
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && !entry.internal && entry.family === 'IPv4')?.address;
  if (!address) {
    console.log('networked commands: no IPv4 address besides the loopback, not measured');
    return;
  }
  const payload = Buffer.alloc(8 * 1024 * 1024, 'x');
  const server = createServer((socket) => socket.end(payload));
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  const port = (server.address() as AddressInfo).port;
  const commands: Record<string, string> = {
    true: 'true',
    'fetch 8 MiB': `exec 3<>/dev/tcp/${address}/${port}; cat <&3 | wc -c`,
  };
  // The host's network as networked commands had it: bwrap without --unshare-net, unshare without --net.
  const hostNetwork = (name: string, prefix: (request: CommandRequest) => string[]): [string, CommandRunner] => [
    `${name} (host network)`,
    {
      confinesProcesses: true,
      privateHome: () => plain.privateHome(),
      run: (request) => plain.run({ ...request, argv: [...prefix(request), ...request.argv] }),
    },
  ];
  const pairs: Array<[[string, CommandRunner], [string, CommandRunner]]> = [];
  if (support.bwrap)
    pairs.push([
      hostNetwork('bwrap', (request) => [
        systemProgram('bwrap'),
        ...bwrapArguments({
          systemPaths: SYSTEM_PATHS,
          etcPaths: etcEntries(),
          toolPaths,
          hiddenPaths: defaultHiddenPaths(),
          cwd: request.cwd,
          network: true,
          canDisableUserns: support.bwrapDisablesUserns,
        }),
        '--',
      ]),
      [
        'bwrap (own network)',
        new BwrapCommandRunner(plain, {
          hiddenPaths: defaultHiddenPaths(),
          toolPaths,
          canDisableUserns: support.bwrapDisablesUserns,
        }),
      ],
    ]);
  if (support.namespaces)
    pairs.push([
      hostNetwork('namespaces', () => namespacePrefix(support.mapCurrentUser, true)),
      ['namespaces (own network)', new NamespaceCommandRunner(plain, { mapCurrentUser: support.mapCurrentUser })],
    ]);
  console.log(`networked commands, median of ${RUNS}: a network of its own against the host's network`);
  for (const [label, line] of Object.entries(commands)) {
    for (const pair of pairs) {
      const times = new Map<string, number[]>(pair.map(([name]) => [name, []]));
      for (let run = 0; run < RUNS; run += 1) {
        for (const [name, runner] of run % 2 === 0 ? pair : [...pair].reverse()) {
          const started = performance.now();
          const result = await runner.run({
            argv: ['bash', '-c', line],
            cwd: worktree.path,
            timeoutMs: 30_000,
            outputLimit: 10_000,
            network: true,
            networkAllow: [`${address}:${port}`],
          });
          if (result.exitCode !== 0) throw new Error(`${name}: ${line} failed: ${result.stderr}`);
          if (label !== 'true' && result.stdout.trim() !== String(payload.length))
            throw new Error(`${name}: ${line} read ${result.stdout.trim()} bytes`);
          times.get(name)!.push(performance.now() - started);
        }
      }
      const [old, own] = pair.map(([name]) => median(times.get(name)!));
      console.log(
        `  ${label.padEnd(11)} ${pair[0][0]} ${ms(old!)}, ${pair[1][0]} ${ms(own!)} (x${(own! / old!).toFixed(2)})`,
      );
    }
  }
  server.close();
}
