import type { MergeResult, SeriesMergeRequest } from '../../ports/forge.js';
import { runGit } from '../workspace/git-cli.js';
import { type LocalPullRequest, type MergeContext, type SeriesRequest, mergeOpenSeries } from './local-forge-merge.js';

/** What merging a series needs of the forge: records with unfinished merges settled, and the merge context. */
export interface SeriesForge {
  settled: (number: number) => Promise<LocalPullRequest>;
  context: MergeContext;
}

/**
 * Merges the requests, the open ones of each base as one series; the caller holds the merge lock.
 * When the checkout cannot take a whole series, each lands on its own, so only the ones it cannot
 * take are refused. A pull request asked twice is merged once; both answers are the same.
 */
export async function mergeRequestedSeries(
  forge: SeriesForge,
  requests: readonly SeriesMergeRequest[],
): Promise<MergeResult[]> {
  const results: MergeResult[] = [];
  const first = new Map<number, number>();
  // Open ones grouped by base (first seen first), each group one series; the rest answered alone.
  const series = new Map<string, Array<{ index: number; request: SeriesRequest }>>();
  for (const [index, request] of requests.entries()) {
    if (first.has(request.number)) continue;
    first.set(request.number, index);
    const record = await forge.settled(request.number);
    if (record.state === 'open') {
      const group = series.get(record.base) ?? [];
      group.push({ index, request: { record, ...request } });
      series.set(record.base, group);
      continue;
    }
    results[index] = await mergedBefore(forge.context.repoDir, record, request.expectedHeadSha);
  }
  for (const group of series.values()) {
    const landed = await mergeOpenSeries(
      forge.context,
      group.map((entry) => entry.request),
    );
    const blocked = (result: MergeResult) => result.kind === 'refused' && result.reason === 'checkout-blocked';
    if (group.length > 1 && landed.some(blocked) && !landed.some((result) => result.kind === 'merged')) {
      // Nothing moved: one at a time, the ones the checkout can take still land.
      for (const [position, entry] of group.entries()) {
        if (!blocked(landed[position]!)) continue;
        const record = await forge.settled(entry.request.record.number);
        landed[position] =
          record.state === 'open'
            ? (await mergeOpenSeries(forge.context, [{ ...entry.request, record }]))[0]!
            : await mergedBefore(forge.context.repoDir, record, entry.request.expectedHeadSha);
      }
    }
    group.forEach((entry, position) => (results[entry.index] = landed[position]!));
  }
  requests.forEach((request, index) => (results[index] ??= results[first.get(request.number)!]!));
  return results;
}

/** A pull request asked to merge that is not open: merged (if still on the base) or refused. */
async function mergedBefore(repoDir: string, record: LocalPullRequest, expectedHeadSha: string): Promise<MergeResult> {
  if (record.state === 'merged' && record.mergedSha && record.headSha === expectedHeadSha) {
    // Asked again (or finished by recovery): merged only if the merge is still on the base.
    const onBase = await runGit(['merge-base', '--is-ancestor', record.mergedSha, `refs/heads/${record.base}`], {
      cwd: repoDir,
      allowExitCodes: [1],
    });
    if (onBase.exitCode === 0) return { kind: 'merged', sha: record.mergedSha };
    return {
      kind: 'refused',
      reason: 'no-longer-on-base',
      message: `pull request #${record.number} was merged as ${record.mergedSha.slice(0, 8)}, which is no longer on ${record.base}`,
    };
  }
  return { kind: 'refused', reason: 'not-open', message: `pull request #${record.number} is ${record.state}` };
}
