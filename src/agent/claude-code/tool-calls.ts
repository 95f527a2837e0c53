import { isAbsolute, relative } from 'node:path';

/** A tool call as Fanout names it: its own tool where one matches, with its argument names. */
export interface FanoutToolCall {
  tool: string;
  arguments: Record<string, unknown>;
}

/**
 * Claude Code's tool call in Fanout's terms, so guards compare calls and logs read the same
 * whatever the backend: Write → write_file, Edit/MultiEdit/NotebookEdit → edit_file, Read →
 * read_file, Bash → run_command, Grep/Glob → search, LS → list_directory; paths relative to the
 * worktree. Another tool keeps its name and input.
 */
export function fanoutToolCall(name: string, input: Record<string, unknown>, worktree: string): FanoutToolCall {
  const path = (value: unknown) => worktreePath(value, worktree);
  const present = (entries: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
  switch (name) {
    case 'Write':
      return { tool: 'write_file', arguments: { path: path(input.file_path), content: input.content } };
    case 'Edit':
      return {
        tool: 'edit_file',
        arguments: present({
          path: path(input.file_path),
          oldText: input.old_string,
          newText: input.new_string,
          replaceAll: input.replace_all,
        }),
      };
    case 'MultiEdit':
      return { tool: 'edit_file', arguments: present({ path: path(input.file_path), edits: input.edits }) };
    case 'NotebookEdit': {
      const { notebook_path: notebook, ...rest } = input;
      return { tool: 'edit_file', arguments: { path: path(notebook), ...rest } };
    }
    case 'Read':
      return {
        tool: 'read_file',
        arguments: present({ path: path(input.file_path), offset: input.offset, limit: input.limit }),
      };
    case 'Bash':
      return {
        tool: 'run_command',
        arguments: present({ command: input.command, background: input.run_in_background }),
      };
    case 'Grep':
      return {
        tool: 'search',
        arguments: present({
          query: input.pattern,
          path: input.path === undefined ? undefined : path(input.path),
          glob: input.glob,
          ignoreCase: input['-i'],
        }),
      };
    case 'Glob':
      return {
        tool: 'search',
        arguments: present({ files: input.pattern, path: input.path === undefined ? undefined : path(input.path) }),
      };
    case 'LS':
      return { tool: 'list_directory', arguments: { path: path(input.path) } };
    default:
      return { tool: name, arguments: input };
  }
}

/** A path inside the worktree relative to it (`.` for its root); anything else as it was given. */
export function worktreePath(value: unknown, worktree: string): unknown {
  if (typeof value !== 'string' || !isAbsolute(value)) return value;
  const inside = relative(worktree, value);
  if (inside === '..' || inside.startsWith('../') || isAbsolute(inside)) return value;
  return inside === '' ? '.' : inside;
}
