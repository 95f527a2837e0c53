import type { AgentTool } from './define-tool.js';
import { editFileTool } from './edit-file.js';
import { finishTool } from './finish.js';
import { listDirectory } from './list-directory.js';
import { readFileTool } from './read-file.js';
import { runCommandTool } from './run-command.js';
import { searchTool } from './search.js';
import { writeFileTool } from './write-file.js';

/** The built-in agent's tools, named as the model sees them. */
export const BUILTIN_TOOLS: readonly AgentTool[] = [
  listDirectory,
  readFileTool,
  writeFileTool,
  editFileTool,
  searchTool,
  runCommandTool,
  finishTool,
];
