import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelGrant, ModelGrantRequest, ModelGrants } from '../../ports/model-grants.js';
import { GatewayGrants } from './gateway-grants.js';
import { ModelGateway, type ModelGatewayOptions } from './model-gateway.js';

/**
 * The process's model gateway, started at the first grant (a run that plans and stops, or a
 * command that runs no agent, starts none), with its unix socket alone in a private directory;
 * `close` stops it and removes the directory.
 */
export class LazyGatewayGrants implements ModelGrants {
  private started: Promise<{ gateway: ModelGateway; grants: GatewayGrants; directory: string }> | undefined;

  constructor(private readonly options: Omit<ModelGatewayOptions, 'socketPath'>) {}

  async grant(request: ModelGrantRequest): Promise<ModelGrant> {
    this.started ??= this.start();
    return (await this.started).grants.grant(request);
  }

  /** Stops the gateway, if it started; calls in flight are cut. */
  async close(): Promise<void> {
    const started = this.started;
    this.started = undefined;
    if (!started) return;
    const { gateway, directory } = await started;
    await gateway.close();
    await rm(directory, { recursive: true, force: true });
  }

  private async start() {
    // Private (0700, from mkdtemp): only this user, and the sandboxes it shows the socket to, connect.
    const directory = await mkdtemp(join(tmpdir(), 'fanout-gateway-'));
    const gateway = await ModelGateway.start({ ...this.options, socketPath: join(directory, 'gateway.sock') });
    // Agents' calls keep it busy while they run; it never keeps a finished process alive.
    gateway.unref();
    return { gateway, grants: new GatewayGrants(gateway), directory };
  }
}
