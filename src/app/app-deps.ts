import type { Logger } from 'probot';
import type { GitHubTarget, PullRequestEvent } from '../domain/command.js';
import type { CoordStore } from '../ports/coord-store.js';

/** Where accepted work goes; it runs in the background, after the delivery is answered. */
export interface IntakeQueue {
  /** A stored command (by its delivery id) is ready to be processed. */
  enqueueCommand(id: string): void | Promise<void>;
  /**
   * GitHub said something about a pull request; the queue checks whether it is one of Fanout's.
   * A rejection means it could not be kept: the delivery is answered 503, to be sent again.
   */
  enqueueEvent(target: GitHubTarget, event: PullRequestEvent): void | Promise<void>;
}

/** The log calls the handlers make (Probot's pino logger fits). */
export type IntakeLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** What the App's webhook handlers need. */
export interface AppDeps {
  store: CoordStore;
  queue: IntakeQueue;
  /** This App's id: its own comments (`performed_via_github_app`) are ignored. */
  appId: number;
  /**
   * This App's slug, if known: a push by `<slug>[bot]` is Fanout's own. Without it every push
   * counts as a person's, so a branch Fanout updated is validated again (safe, slower).
   */
  appSlug?: string;
  /** Defaults to Probot's per-delivery logger. */
  log?: IntakeLog;
}
