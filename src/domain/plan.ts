/** One unit of work for one agent, with the files it may write and read. */
export interface Subtask {
  id: string;
  title: string;
  instructions: string;
  /** Files, directories (trailing `/`) or globs the agent may create or change. */
  writeScope: string[];
  /** Files, directories or globs the agent should read for context. */
  readScope: string[];
  /** Ids of subtasks whose pull requests must merge before this one. */
  dependsOn: string[];
}

/** A validated plan: subtasks whose write scopes do not overlap. */
export interface Plan {
  task: string;
  subtasks: Subtask[];
}
