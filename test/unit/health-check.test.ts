import { describe, expect, it } from 'vitest';
import { storeHealth } from '../../src/app/health-check.js';

describe('the health check', () => {
  it('is ok when the store answers', async () => {
    expect(await storeHealth({ ping: async () => undefined })).toEqual({ ok: true });
  });

  it('names the error code of a store that fails, not its message', async () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' });
    const health = await storeHealth({ ping: () => Promise.reject(error) });
    expect(health).toMatchObject({ ok: false, reason: 'store unavailable: ECONNREFUSED', error });
  });

  it('gives up on a store that never answers', async () => {
    const health = await storeHealth({ ping: () => new Promise<void>(() => undefined) }, 20);
    expect(health).toEqual({ ok: false, reason: 'store unavailable: no answer within 20 ms' });
  });
});
