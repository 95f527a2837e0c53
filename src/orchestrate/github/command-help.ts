import { AGENT_BACKEND_NAMES } from '../../domain/agent-backend.js';

/** What `/orchestrate help` (and an unknown command) answers. */
export const COMMAND_HELP = [
  'Fanout commands (a comment line that starts with the command; people with write access only):',
  '',
  '- `/orchestrate <task>`: plan the task into subtasks with separate files, run one agent per subtask, open a pull request for each, and merge them in order.',
  `- \`/orchestrate --agent NAME <task>\`: the same, with that agent backend (${AGENT_BACKEND_NAMES.map((name) => `\`${name}\``).join(', ')}) instead of the one \`.github/fanout.yml\` names (\`agent:\`).`,
  '- `/orchestrate status`: refresh the status comment of the run on this issue.',
  '- `/orchestrate cancel`: stop the run on this issue.',
  '- `/orchestrate retry <subtask>`: run a failed subtask again (or put its pull request back in the merge queue).',
  '- `/orchestrate approve`: start the agents of a plan that waits for approval (`plan: review` in `.github/fanout.yml`).',
  '- `/orchestrate help`: this list.',
  '',
  "On one of Fanout's pull requests:",
  '',
  "- `/fanout fix [instructions]`: send the subtask's agent back to the pull request with your instructions (a review that requests changes, or a red check, does this too, up to `maxFixAttempts`).",
].join('\n');
