import { describe, expect, it } from 'vitest';
import { baseRequirements, startingSuites } from '../../src/adapters/forge/github/repository-ci.js';
import { approvedHeads } from '../../src/merge/approved-heads.js';
import { judgeReadiness, type ReadinessPolicy } from '../../src/merge/readiness.js';
import type { PullRequestReadiness, RepositoryCi } from '../../src/ports/forge.js';

const H1 = '1'.repeat(40);
const H2 = '2'.repeat(40);
const H3 = '3'.repeat(40);
const H4 = '4'.repeat(40);
const NOW = Date.parse('2024-05-01T10:00:00Z');
const GREEN = { name: 'fanout/validate', state: 'success' } as const;
const MANUAL: ReadinessPolicy = { approval: 'manual', validationCheck: 'fanout/validate', head: H1, now: NOW };
const NO_CI: RepositoryCi = { requiredChecks: [], requiredApprovals: 0, startingSuites: [] };

function readiness(overrides: Partial<PullRequestReadiness> = {}): PullRequestReadiness {
  return { checks: [GREEN], approvals: [], changesRequestedBy: [], ...overrides };
}

describe('judgeReadiness: approvals are bound to a head', () => {
  it('counts an approval given on the head', () => {
    expect(judgeReadiness(readiness({ approvals: [{ by: 'ada', headSha: H1 }] }), MANUAL)).toEqual({
      kind: 'ready',
      approvedBy: 'ada',
    });
  });

  it('holds a head pushed after the approval (a person, or a fix of Fanout), saying a new approval is needed', () => {
    const verdict = judgeReadiness(readiness({ approvals: [{ by: 'ada', headSha: H1 }] }), { ...MANUAL, head: H2 });
    expect(verdict).toEqual({
      kind: 'waiting',
      reason: 'approval-stale',
      message: `approval is for an older head ${H1.slice(0, 7)}; a new approval is needed for ${H2.slice(0, 7)}`,
    });
  });

  it("carries an approval over Fanout's own updates with the base, and not over a commit after them", () => {
    const updates = [
      { from: H1, to: H2 },
      { from: H2, to: H3 },
    ];
    const approved = readiness({ approvals: [{ by: 'ada', headSha: H1 }] });
    expect(judgeReadiness(approved, { ...MANUAL, head: H3, baseUpdates: updates })).toMatchObject({ kind: 'ready' });
    // H4 follows H3 but Fanout did not make it by updating with the base (a fix, a push).
    expect(judgeReadiness(approved, { ...MANUAL, head: H4, baseUpdates: updates })).toMatchObject({
      reason: 'approval-stale',
    });
    expect(approvedHeads(H3, [...updates, { from: H3, to: H1 }])).toEqual(new Set([H3, H2, H1]));
  });

  it('under approval: auto needs no approval, unless branch protection counts some', () => {
    const auto: ReadinessPolicy = { ...MANUAL, approval: 'auto' };
    expect(judgeReadiness(readiness({ approvals: [{ by: 'ada', headSha: H2 }] }), auto)).toEqual({ kind: 'ready' });
    const protectedBase = readiness({
      ci: { ...NO_CI, requiredApprovals: 2 },
      approvals: [{ by: 'ada', headSha: H1 }],
    });
    expect(judgeReadiness(protectedBase, auto)).toEqual({
      kind: 'waiting',
      reason: 'review-required',
      message: 'waiting for 2 approving reviews (branch protection requires 2; 1 so far)',
    });
  });
});

describe("judgeReadiness: the repository's CI", () => {
  const ci = (overrides: Partial<RepositoryCi>): RepositoryCi => ({ ...NO_CI, ...overrides });
  const auto: ReadinessPolicy = { ...MANUAL, approval: 'auto', waitForChecksMs: 60_000 };
  const started = new Date(NOW - 10_000).toISOString();

  it('waits for a required check that has not reported, and merges once it reported green', () => {
    const required = ci({ requiredChecks: ['ci/test'], firstCheckAt: started });
    expect(judgeReadiness(readiness({ ci: required }), auto)).toEqual({
      kind: 'waiting',
      reason: 'checks-pending',
      message: 'waiting for ci/test (required by branch protection)',
    });
    const reported = readiness({ ci: required, checks: [GREEN, { name: 'ci/test', state: 'success' }] });
    expect(judgeReadiness(reported, auto)).toEqual({ kind: 'ready' });
  });

  it('without required checks, waits for CI to appear until the grace period ends, then merges', () => {
    const waiting = judgeReadiness(readiness({ ci: ci({ firstCheckAt: started }) }), auto);
    expect(waiting).toEqual({
      kind: 'waiting',
      reason: 'checks-pending',
      message: "waiting for the repository's CI to report (up to 60 s)",
      retryAt: new Date(NOW + 50_000).toISOString(),
    });
    const later = { ...auto, now: NOW + 50_000 };
    expect(judgeReadiness(readiness({ ci: ci({ firstCheckAt: started }) }), later)).toEqual({ kind: 'ready' });
  });

  it('waits for a check suite that has not started a run, within the grace period only', () => {
    const starting = readiness({ ci: ci({ firstCheckAt: started, startingSuites: ['circleci'] }) });
    expect(judgeReadiness(starting, auto)).toMatchObject({ message: 'waiting for circleci to report (up to 60 s)' });
    expect(judgeReadiness(starting, { ...auto, now: NOW + 60_000 })).toEqual({ kind: 'ready' });
  });

  it("merges within the grace period once the repository's own checks reported green", () => {
    const reported = readiness({
      ci: ci({ firstCheckAt: started }),
      checks: [GREEN, { name: 'fanout/scope', state: 'success' }, { name: 'build', state: 'success' }],
    });
    expect(judgeReadiness(reported, { ...auto, ownChecks: ['fanout/validate', 'fanout/scope'] })).toEqual({
      kind: 'ready',
    });
    const ownOnly = readiness({
      ci: ci({ firstCheckAt: started }),
      checks: [GREEN, { name: 'fanout/scope', state: 'success' }],
    });
    expect(judgeReadiness(ownOnly, { ...auto, ownChecks: ['fanout/validate', 'fanout/scope'] })).toMatchObject({
      kind: 'waiting',
    });
  });

  it('waits for nothing where the forge has no CI (local mode), or with a grace period of 0', () => {
    expect(judgeReadiness(readiness(), auto)).toEqual({ kind: 'ready' });
    expect(judgeReadiness(readiness({ ci: ci({ firstCheckAt: started }) }), { ...auto, waitForChecksMs: 0 })).toEqual({
      kind: 'ready',
    });
  });
});

describe('GitHub: what a base branch requires, and the suites that have not started', () => {
  it('joins classic protection and ruleset rules; protection switched off requires nothing', () => {
    const branch = {
      protected: true,
      protection: {
        enabled: true,
        required_status_checks: {
          enforcement_level: 'non_admins',
          contexts: ['ci/test'],
          checks: [{ context: 'ci/lint' }],
        },
      },
    };
    const rules = [
      {
        type: 'required_status_checks',
        parameters: { required_status_checks: [{ context: 'ci/test' }, { context: 'e2e' }] },
      },
      { type: 'pull_request', parameters: { required_approving_review_count: 2 } },
      { type: 'non_fast_forward' },
    ];
    expect(baseRequirements(branch, rules)).toEqual({
      requiredChecks: ['ci/test', 'ci/lint', 'e2e'],
      requiredApprovals: 2,
    });
    expect(baseRequirements({ protected: false, protection: branch.protection }, [])).toEqual({
      requiredChecks: [],
      requiredApprovals: 0,
    });
  });

  it('names the apps whose suite is not complete and has no check run yet', () => {
    expect(
      startingSuites([
        { status: 'queued', latest_check_runs_count: 0, app: { slug: 'circleci', name: 'CircleCI Checks' } },
        { status: 'in_progress', latest_check_runs_count: 2, app: { slug: 'github-actions', name: 'GitHub Actions' } },
        { status: 'completed', latest_check_runs_count: 0, app: { slug: 'stale', name: 'Stale' } },
      ]),
    ).toEqual(['CircleCI Checks']);
  });
});
