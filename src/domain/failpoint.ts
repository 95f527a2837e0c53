/**
 * Named points in a run where the fault suite kills Fanout (SIGKILL) to prove that resuming
 * reaches the same end state. Production code calls the hook it was given; only the composition
 * root decides what a failpoint does (nothing, unless FANOUT_FAILPOINT names it).
 */
export type FailpointName =
  'after-plan' | 'mid-agent' | 'after-commit' | 'after-pr' | 'mid-merge' | 'after-merge-before-record';

/** Every failpoint, in the order a run passes them. */
export const FAILPOINTS: readonly FailpointName[] = [
  'after-plan',
  'mid-agent',
  'after-commit',
  'after-pr',
  'mid-merge',
  'after-merge-before-record',
];

/** Called at a failpoint; the default does nothing. */
export type Failpoint = (name: FailpointName) => void;
