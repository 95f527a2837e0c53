import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepoConfig } from '../../config/repo-config.js';
import type { ResourceLimitKind } from '../../domain/resource-limits.js';
import type { CommandRunner } from '../../ports/command-runner.js';
import type { Workspace, Worktree } from '../../ports/workspace.js';
import { cacheKey, installInputs } from './cache-key.js';
import { collectCopies, writeCopies, type CopiedFile } from './copy-files.js';
import {
  discardEntry,
  evictOld,
  placeEntry,
  placementIntact,
  readEntry,
  recordChecked,
  removeLeftovers,
  storeEntry,
  verifyEntry,
  type CacheEntry,
} from './environment-cache.js';
import { readTree, removePaths } from './file-tree.js';
import { detectInstall } from '../../domain/package-manager.js';
import type { PreparationGit, TreeEntry } from './preparation-git.js';
import { runSetup, setupFailureMessage, type SetupCommand } from './run-setup.js';

/** How a worktree was prepared; `{ ok: false }` is the environment's failure, never the agent's. */
export type PreparationResult =
  | {
      ok: true;
      /** none: nothing to install; built: setup ran (and was cached); reused: linked from the cache. */
      environment: 'none' | 'built' | 'built-uncached' | 'reused';
      durationMs: number;
      /** What was left out and why (a submodule the checkout lacks). */
      notes: string[];
    }
  | {
      ok: false;
      message: string;
      /** Setup was stopped at this resource limit (`limits:`): the subtask fails with it as its reason. */
      limit?: ResourceLimitKind;
    };

export interface WorktreePreparerOptions {
  runner: CommandRunner;
  workspace: Pick<Workspace, 'readFileAt'>;
  git: PreparationGit;
  /** The user's checkout: where `copy:` files and submodules come from. */
  repoDir: string;
  config: Pick<RepoConfig, 'setup' | 'copy' | 'network'> & Partial<Pick<RepoConfig, 'networkAllow' | 'limits'>>;
  /**
   * The run's base commit, which holds no agent's work: only a worktree at this commit runs setup
   * with the network and the user's registry configuration, and only its result is cached. A
   * commit with agents' changes (the merge worktree) reuses that result when its install inputs
   * are the same, and otherwise installs as agent commands run: no credentials, network only
   * with `network: true`.
   */
  trustedCommit: string;
  /** Where prepared environments are kept (under Fanout's state directory, hidden from commands). */
  cacheDir: string;
  /** Whose registry configuration setup gets (`~/.npmrc`...). */
  userHome: string;
  /** Fills `${VAR}` in the registry configuration. */
  env?: NodeJS.ProcessEnv;
  /** Runs `work` holding an exclusive lock file (across processes). */
  withLock: <T>(lockPath: string, work: () => Promise<T>) => Promise<T>;
  redact?: (text: string) => string;
  signal?: AbortSignal;
}

type SetupPlan =
  | { kind: 'commands'; commands: SetupCommand[]; manager: string }
  | { kind: 'none' }
  | { kind: 'unsupported'; reason: string };
/** What one preparation carries into the cache's hands. */
interface Work {
  commands: readonly SetupCommand[];
  copies: readonly CopiedFile[];
  /** Paths git would commit before setup ran (setup must add none). */
  before: ReadonlySet<string>;
  trusted: boolean;
  thorough: boolean;
  notes: string[];
  /** A placement of a cache entry the worktree already holds, untouched (see `keepPlacement`). */
  kept: CacheEntry | null;
}
type Provided =
  Extract<PreparationResult, { ok: false }> | { ok: true; environment: 'built' | 'built-uncached' | 'reused' };

const INSTALL_TIMEOUT_MS = 30 * 60_000;
const ROUNDS = 3;
const MIN_SCANNED_CREDENTIAL = 16;
// Native modules are built for one Node ABI. Commands run the Node that runs Fanout (its directory
// is on their PATH, in the sandbox too), so Fanout's own versions stand for theirs.
const RUNTIME = `node ${process.versions.node} abi ${process.versions.modules} ${process.platform} ${process.arch}`;

/** Prepares worktrees of one repository for one run (see `prepare`). */
export class WorktreePreparer {
  private readonly entries = new Map<string, Promise<TreeEntry[]>>();

  constructor(private readonly options: WorktreePreparerOptions) {}

  /**
   * Makes a worktree ready for an agent or validation at the commit it has checked out: ignored
   * leftovers removed, submodules checked out from the user's checkout, `copy:` files copied, and
   * setup (`setup:`, or the detected install) run, or its cached result linked in. `thorough`
   * hashes every cached file first (see environment-cache.ts): for the merge worktree.
   */
  async prepare(worktree: Worktree, options: { thorough?: boolean } = {}): Promise<PreparationResult> {
    const started = performance.now();
    const { git, config } = this.options;
    // What the worktree holds, not what it was made from (the merge worktree moves on).
    const commit = await git.headCommit(worktree);
    const entries = await this.treeEntries(commit);
    const copies = await collectCopies(git, this.options.repoDir, config.copy);
    const plan = copies.ok ? await this.plan(commit, entries) : null;
    const key =
      copies.ok && plan?.kind === 'commands'
        ? cacheKey({
            commands: plan.commands.map((command) => command.argv),
            manager: plan.manager,
            inputs: installInputs(entries),
            copied: copies.files,
            runtime: RUNTIME,
          })
        : null;
    const kept = await this.keepPlacement(worktree, key);
    const notes = await this.checkoutSubmodules(worktree, commit, entries);
    if (!copies.ok) return copies;
    if (!plan || plan.kind === 'unsupported') return { ok: false, message: `Setup: ${plan?.reason ?? 'unknown'}.` };
    const written = await writeCopies(worktree.path, copies.files);
    if (!written.ok) return written;
    const done = (environment: Extract<PreparationResult, { ok: true }>['environment']): PreparationResult => ({
      ok: true,
      environment,
      durationMs: Math.round(performance.now() - started),
      notes,
    });
    if (plan.kind === 'none' && copies.files.length === 0) return done('none');
    const before = new Set(await git.uncommittedPaths(worktree));
    const unignored = copies.files.filter((file) => before.has(file.path)).map((file) => file.path);
    if (unignored.length > 0) {
      return {
        ok: false,
        message: `\`copy:\` in .github/fanout.yml copied files git does not ignore, so they would be committed with the agent's work: ${unignored.join(', ')}. Ignore them in .gitignore, or take them out of \`copy:\`.`,
      };
    }
    if (plan.kind === 'none') return done('none');
    // Credentials and the cache only for exactly the trusted commit: nothing changed on top of it.
    const trusted = commit === this.options.trustedCommit && before.size === 0;
    if (commit === this.options.trustedCommit && !trusted)
      notes.push(
        `the worktree differs from its commit (${[...before].slice(0, 3).join(', ')}): set up without the cache and without your registry configuration`,
      );
    const provided = await this.provide(key!, worktree, {
      commands: plan.commands,
      copies: copies.files,
      before,
      trusted,
      thorough: options.thorough === true,
      notes,
      kept,
    });
    if (!provided.ok) return provided;
    // Copies are never cached (they change without the lockfile changing): written fresh each time.
    const rewritten = await writeCopies(worktree.path, copies.files);
    return rewritten.ok ? done(provided.environment) : rewritten;
  }

  /** The cached environment for `key` linked in, or built here (and cached when trusted). */
  private async provide(key: string, worktree: Worktree, work: Work): Promise<Provided> {
    const { cacheDir } = this.options;
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    for (let round = 0; round < ROUNDS; round += 1) {
      const seen = await readEntry(cacheDir, key);
      if (seen && (await this.reuse(seen, worktree, work))) return { ok: true, environment: 'reused' };
      if (!work.trusted) break;
      const outcome = await this.options.withLock(
        join(cacheDir, `${key}.lock`),
        async (): Promise<Provided | 'again'> => {
          const current = await readEntry(cacheDir, key);
          // Someone built it while this one waited: go round and reuse it, outside the lock.
          if (current && current.manifest.id !== seen?.manifest.id) return 'again';
          await removeLeftovers(cacheDir, key);
          if (current) await discardEntry(cacheDir, key);
          return this.build(worktree, work, key);
        },
      );
      if (outcome !== 'again') return outcome;
    }
    return this.build(worktree, work, null);
  }

  /**
   * Removes the worktree's ignored files, except a placement of the cache entry for `key` that a
   * warm pool slot's last user left untouched (checked after the cleaning, which could have
   * removed part of it): that one stays, and is only verified, not linked again.
   */
  private async keepPlacement(worktree: Worktree, key: string | null): Promise<CacheEntry | null> {
    const candidate = key ? await readEntry(this.options.cacheDir, key) : null;
    // A fresh or fully tidied pool worktree has none: walking its tree to learn that is skipped.
    if (!worktree.withoutIgnoredFiles) await this.options.git.removeIgnored(worktree, candidate?.manifest.roots ?? []);
    if (!candidate) return null;
    if (await placementIntact(candidate, worktree.path)) return candidate;
    await removePaths(worktree.path, candidate.manifest.roots);
    return null;
  }

  /** Links a verified entry into the worktree; false when it fails the check or cannot be placed. */
  private async reuse(entry: CacheEntry, worktree: Worktree, work: Work): Promise<boolean> {
    const kept = work.kept?.manifest.id === entry.manifest.id;
    if (work.kept && !kept) await this.dropKept(worktree, work);
    const verification = await verifyEntry(entry, { thorough: work.thorough });
    if (!verification.ok) {
      work.notes.push(`the cached environment was set up again: ${verification.problem}`);
      if (kept) await this.dropKept(worktree, work);
      return false;
    }
    if (kept) {
      // Already in place from the slot's last user: nothing to link, so no ctime moved.
      if (verification.hashed > 0) await recordChecked(entry);
      return true;
    }
    await removePaths(
      worktree.path,
      work.copies.map((file) => file.path),
    );
    try {
      await placeEntry(entry, worktree.path);
    } catch {
      // Discarded or rebuilt meanwhile: the caller goes on to the lock.
      return false;
    }
    await recordChecked(entry);
    return true;
  }

  /** Removes a kept placement that is not going to be used. */
  private async dropKept(worktree: Worktree, work: Work): Promise<void> {
    if (work.kept) await removePaths(worktree.path, work.kept.manifest.roots);
    work.kept = null;
  }

  /** Runs setup in the worktree; with a key, moves what it made into the cache and links it back. */
  private async build(worktree: Worktree, work: Work, key: string | null): Promise<Provided> {
    const { git, config } = this.options;
    await this.dropKept(worktree, work);
    const run = await runSetup({
      runner: this.options.runner,
      worktree,
      commands: work.commands,
      network: work.trusted || config.network,
      ...(config.networkAllow ? { networkAllow: config.networkAllow } : {}),
      ...(config.limits ? { limits: config.limits } : {}),
      ...(work.trusted ? { registry: { userHome: this.options.userHome, env: this.options.env ?? process.env } } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    // Stopped because the run was cancelled: that is not a setup failure.
    this.options.signal?.throwIfAborted();
    if (!run.ok)
      return {
        ok: false,
        message: setupFailureMessage(run, this.options.redact),
        ...(run.limitExceeded ? { limit: run.limitExceeded } : {}),
      };
    const created = (await git.uncommittedPaths(worktree)).filter((path) => !work.before.has(path));
    if (created.length > 0) {
      return {
        ok: false,
        message: `Setup changed files git would commit with the agent's work: ${created.slice(0, 20).join(', ')}. Make setup leave tracked files alone and ignore what it writes (.gitignore).`,
      };
    }
    await removePaths(
      worktree.path,
      work.copies.map((file) => file.path),
    );
    const roots = (await git.ignoredPaths(worktree)).map((path) => path.replace(/\/+$/, ''));
    // Long values only: a short word from a credential line would match ordinary files.
    const credentials = run.credentials.filter((value) => value.length >= MIN_SCANNED_CREDENTIAL);
    if (!key) {
      const leaks =
        credentials.length > 0 ? (await readTree(worktree.path, roots, worktree.path, credentials)).leaks : [];
      return leaks.length > 0 ? leaked(worktree, roots, leaks) : { ok: true, environment: 'built-uncached' };
    }
    const entry = await storeEntry(this.options.cacheDir, key, worktree.path, roots, credentials);
    if ('leaks' in entry) return leaked(worktree, roots, entry.leaks);
    await placeEntry(entry, worktree.path);
    await recordChecked(entry);
    await evictOld(this.options.cacheDir);
    return { ok: true, environment: 'built' };
  }

  /** `setup:` as configured (`[]`: nothing), or the detected install. */
  private async plan(commit: string, entries: readonly TreeEntry[]): Promise<SetupPlan> {
    const { setup } = this.options.config;
    if (setup !== undefined) {
      if (setup.length === 0) return { kind: 'none' };
      return {
        kind: 'commands',
        manager: 'setup',
        commands: setup.map((command) => ({
          label: command.run,
          argv: ['bash', '-c', command.run],
          timeoutMs: command.timeoutSeconds * 1000,
        })),
      };
    }
    const rootFiles = entries.filter((entry) => !entry.path.includes('/')).map((entry) => entry.path);
    const packageJson = rootFiles.includes('package.json')
      ? await this.options.workspace.readFileAt(this.options.repoDir, commit, 'package.json')
      : null;
    const detection = detectInstall(rootFiles, packageJson);
    if (detection.kind !== 'install') return detection.kind === 'none' ? { kind: 'none' } : detection;
    return {
      kind: 'commands',
      manager: detection.manager,
      commands: [{ label: detection.argv.join(' '), argv: detection.argv, timeoutMs: INSTALL_TIMEOUT_MS }],
    };
  }

  /** Submodules checked out from the user's checkout; a note for each one it cannot provide. */
  private async checkoutSubmodules(
    worktree: Worktree,
    commit: string,
    entries: readonly TreeEntry[],
  ): Promise<string[]> {
    const links = entries.filter((entry) => entry.mode === '160000');
    if (links.length === 0) return [];
    const names = new Map(
      (await this.options.git.submodules(this.options.repoDir, commit)).map((submodule) => [
        submodule.path,
        submodule.name,
      ]),
    );
    const notes: string[] = [];
    for (const link of links) {
      const name = names.get(link.path);
      const checkedOut =
        name !== undefined &&
        (await this.options.git.checkoutSubmodule(worktree, { name, path: link.path, commit: link.object }));
      if (!checkedOut)
        notes.push(
          `submodule ${link.path} left empty: the checkout has no copy of commit ${link.object.slice(0, 12)} (run \`git submodule update --init\` there)`,
        );
    }
    return notes;
  }

  private treeEntries(commit: string): Promise<TreeEntry[]> {
    let found = this.entries.get(commit);
    if (!found) {
      found = this.options.git.treeEntries(this.options.repoDir, commit);
      found.catch(() => this.entries.delete(commit));
      this.entries.set(commit, found);
    }
    return found;
  }
}

/** A setup that left registry credentials where agents would read them fails, and what it made goes. */
async function leaked(worktree: Worktree, roots: readonly string[], leaks: readonly string[]): Promise<Provided> {
  await removePaths(worktree.path, roots);
  return {
    ok: false,
    message: `Setup left your registry credentials in ${leaks.slice(0, 10).join(', ')}, where agents would read them; make setup keep them out of the worktree.`,
  };
}
