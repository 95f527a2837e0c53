import { ProcessCommandRunner } from '../../src/adapters/command/process-runner.js';
import { BwrapCommandRunner } from '../../src/adapters/command/bwrap-runner.js';
import { NamespaceCommandRunner } from '../../src/adapters/command/namespace-runner.js';
import { LimitedCommandRunner } from '../../src/adapters/command/resource-limits.js';
import { sandboxSupport } from '../../src/adapters/command/sandbox-support.js';
import { describeWithSandbox } from '../support/require-sandbox.js';
import { commandRunnerContract, isolationContract, userNetworkContract } from './command-runner.contract.js';
import { limitsContract } from './resource-limits.contract.js';

// As main.ts composes them: the limits wrap the spawning runner, the sandboxes wrap the limits.
const limited = () => new LimitedCommandRunner(new ProcessCommandRunner());

commandRunnerContract('plain processes', () => new ProcessCommandRunner());
commandRunnerContract('plain processes with limits', limited);
limitsContract('plain processes', limited);

describeWithSandbox('namespaces (FANOUT_SANDBOX=none)', 'namespaces', () => {
  const make = () => new NamespaceCommandRunner(limited(), { mapCurrentUser: sandboxSupport().mapCurrentUser });
  commandRunnerContract('namespaces', make);
  limitsContract('namespaces', make);
  isolationContract('namespaces', make, {
    hiding: (hiddenPaths) =>
      new NamespaceCommandRunner(new ProcessCommandRunner(), {
        mapCurrentUser: sandboxSupport().mapCurrentUser,
        hiddenPaths,
      }),
  });
  describeWithSandbox('with the network', 'userNetwork', () =>
    userNetworkContract(
      'namespaces',
      (env) =>
        new NamespaceCommandRunner(new ProcessCommandRunner(), {
          mapCurrentUser: sandboxSupport().mapCurrentUser,
          ...(env ? { network: { env } } : {}),
        }),
    ),
  );
});

describeWithSandbox('bubblewrap sandbox', 'bwrap', () => {
  const make = () =>
    new BwrapCommandRunner(limited(), {
      hiddenPaths: [],
      canDisableUserns: sandboxSupport().bwrapDisablesUserns,
    });
  commandRunnerContract('bubblewrap', make);
  limitsContract('bubblewrap', make);
  isolationContract('bubblewrap', make, {
    hiding: (hiddenPaths) =>
      new BwrapCommandRunner(new ProcessCommandRunner(), {
        hiddenPaths,
        canDisableUserns: sandboxSupport().bwrapDisablesUserns,
      }),
  });
  describeWithSandbox('with the network', 'userNetwork', () =>
    userNetworkContract(
      'bubblewrap',
      (env) =>
        new BwrapCommandRunner(new ProcessCommandRunner(), {
          hiddenPaths: [],
          canDisableUserns: sandboxSupport().bwrapDisablesUserns,
          ...(env ? { network: { env } } : {}),
        }),
    ),
  );
});
