import { describe, expect, it } from 'vitest';
import { cgroupDirectories } from '../../src/adapters/command/cgroup.js';
import { describeLimits } from '../../src/adapters/command/resource-limits.js';

const V1_MOUNTS = [
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe("where a command's cgroups go", () => {
  it("finds this process's own directory per v1 hierarchy (a nested memory cgroup, as on CI) and the hybrid v2 mount", () => {
    const membership = '8:pids:/\n4:memory:/process_api/abc\n0::/\n';
    expect(cgroupDirectories({ membership, mountinfo: V1_MOUNTS })).toEqual({
      pids: '/sys/fs/cgroup/pids',
      memory: '/sys/fs/cgroup/memory/process_api/abc',
      unified: '/sys/fs/cgroup/unified',
    });
  });

  it('reads a pure v2 machine under systemd, and a container whose mount starts below the hierarchy root', () => {
    const systemd = cgroupDirectories({
      membership: '0::/user.slice/user-1000.slice/user@1000.service/app.slice/fanout.service\n',
      mountinfo: '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
    });
    expect(systemd).toEqual({
      unified: '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/fanout.service',
    });
    const container = cgroupDirectories({
      membership: '0::/docker/abc/worker\n',
      mountinfo: '30 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    });
    expect(container).toEqual({ unified: '/sys/fs/cgroup/worker' });
  });

  it('names the mechanism in words for the run record, and the fallback as root says what it cannot bound', () => {
    expect(describeLimits({ cgroups: { version: 1, pids: '/p', memory: '/m' }, root: true })).toBe(
      'cgroup v1 (pids, memory); file size: RLIMIT_FSIZE; disk: quota watcher',
    );
    expect(describeLimits({ cgroups: null, root: true })).toBe(
      'memory: RLIMIT_DATA per process; process count not enforceable as root without cgroups; file size: RLIMIT_FSIZE; disk: quota watcher',
    );
  });
});
