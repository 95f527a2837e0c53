import { it } from 'vitest';
import { limitsSupport } from '../../src/adapters/command/resource-limits.js';

/**
 * A test of process or memory limits, which need a cgroup (RLIMIT_NPROC does not bind root, and
 * RLIMIT_DATA is per process and leaves no count to tell the cause by). CI has cgroups (v1 or a
 * delegated v2): there, none is a failure, not a skip; elsewhere the test is skipped by name.
 */
export function itWithCgroups(name: string, test: () => Promise<void>, timeout?: number): void {
  if (limitsSupport().cgroups) {
    it(name, test, timeout);
    return;
  }
  if (process.env.CI) {
    it(name, () => {
      throw new Error('CI must run the cgroup limit tests, but no writable cgroup (v2 delegated, or v1) was found');
    });
    return;
  }
  it.skip(`${name} (skipped: no writable cgroup here)`, test);
}
