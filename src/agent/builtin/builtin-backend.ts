import type { AgentOutcome } from '../../domain/agent-outcome.js';
import type { AgentBackend, AgentModelAccess, AgentReporter, AgentRequest } from '../../ports/agent-backend.js';
import type { CommandRunner } from '../../ports/command-runner.js';
import type { Llm } from '../../ports/llm.js';
import { runAgent } from '../run-agent.js';
import { BUILTIN_TOOLS } from '../tools/index.js';

/**
 * Fanout's own agent: a tool-calling loop over the Llm port, its commands through the runner. Its
 * model is reached through the gateway when the attempt was granted access (`llmFor` makes the
 * client), else through the Llm it was built with.
 */
export class BuiltinAgentBackend implements AgentBackend {
  readonly name = 'builtin';

  constructor(
    private readonly llm: Llm,
    private readonly runner: CommandRunner,
    private readonly llmFor?: (access: AgentModelAccess) => Llm,
  ) {}

  run(request: AgentRequest, events: AgentReporter, signal?: AbortSignal): Promise<AgentOutcome> {
    const { worktree } = request;
    return runAgent({
      llm: request.model && this.llmFor ? this.llmFor(request.model) : this.llm,
      subtask: request.subtask,
      ...(request.overallTask ? { overallTask: request.overallTask } : {}),
      tools: BUILTIN_TOOLS,
      context: {
        root: worktree.path,
        writeScope: request.subtask.writeScope,
        canWrite: request.canWrite,
        protectedPaths: request.protectedPaths,
        runner: this.runner,
        commandEnv: { HOME: request.home },
        git: { gitDir: worktree.gitDir, commonDir: worktree.commonDir },
        network: request.network,
        ...(request.networkAllow ? { networkAllow: request.networkAllow } : {}),
        ...(request.resourceLimits ? { limits: request.resourceLimits } : {}),
        ...(request.redact ? { redact: request.redact } : {}),
        worktreeChanges: request.worktreeChanges,
        commandTimeoutMs: request.limits.commandTimeoutMs,
        outputLimit: request.limits.toolOutputLimit,
        ...(signal ? { signal } : {}),
      },
      limits: request.limits,
      reporter: events,
      ...(request.retryHint ? { retryHint: request.retryHint } : {}),
      ...(request.outline ? { outline: request.outline } : {}),
      ...(request.feedback ? { feedback: request.feedback } : {}),
      ...(signal ? { signal } : {}),
    });
  }
}
