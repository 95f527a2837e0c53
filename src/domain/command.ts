import type { AgentBackendName } from './agent-backend.js';

/** A command a maintainer wrote on an issue (`/orchestrate …`), parsed. */
export type IssueCommand =
  /** `agent`: `/orchestrate --agent NAME <task>` chose the backend for this run. */
  | { kind: 'orchestrate'; task: string; agent?: AgentBackendName }
  | { kind: 'status' }
  | { kind: 'cancel' }
  | { kind: 'retry'; subtask: string }
  | { kind: 'approve' }
  /** `unknownAgent`: `--agent` named no backend Fanout knows (the reply lists those it does). */
  | { kind: 'help'; unknown?: string; unknownAgent?: string }
  /** `/fanout fix [instructions]` on one of Fanout's pull requests (the command's `issue` is the PR). */
  | { kind: 'fix'; instructions: string };

/** The repository and issue a command or event concerns, as the webhook payload named them. */
export interface GitHubTarget {
  owner: string;
  repo: string;
  installationId: number;
  cloneUrl: string;
  /** `https://github.com/owner/repo` (or the GHE address). */
  htmlUrl: string;
  defaultBranch: string;
}

/**
 * A command received from a webhook, stored before the delivery is acknowledged so that nothing
 * is lost: a crash after the answer leaves it `received`, and the next start processes it.
 */
export interface CommandRecord {
  /** The delivery id (`X-GitHub-Delivery`). */
  id: string;
  target: GitHubTarget;
  issue: number;
  commentId: number;
  /** Who wrote the comment (their permission is checked before anything runs). */
  sender: string;
  command: IssueCommand;
  state: 'received' | 'done' | 'refused' | 'failed';
  /** What Fanout answered or why it failed, for people. */
  outcome?: string;
  /** False when the outcome was recorded but not posted (the rest of a burst, already answered once). */
  posted?: boolean;
  /** The run this command started or acted on. */
  runId?: string;
  receivedAt: string;
  updatedAt: string;
}

/** Something GitHub told Fanout about one of its pull requests, which may let the merge queue move. */
export type PullRequestEvent =
  | {
      kind: 'review';
      prNumber: number;
      state: 'approved' | 'changes_requested' | 'commented' | 'dismissed';
      reviewer: string;
      reviewId: number;
      reviewerIsBot: boolean;
    }
  /** `failed` when the check ended red (failure or timed out). */
  | { kind: 'checks-completed'; headSha: string; prNumbers: number[]; failed: boolean }
  | { kind: 'status'; headSha: string; failed: boolean }
  | { kind: 'closed'; prNumber: number; merged: boolean }
  | { kind: 'pushed'; prNumber: number; headSha: string; pusher: string; pusherIsFanout: boolean };
