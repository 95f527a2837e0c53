import { describe, expect, it } from 'vitest';
import { redactingOutput } from '../../src/cli/output.js';
import { SecretRedactor } from '../../src/domain/redactor.js';
import { captureOutput } from '../support/capture-output.js';

describe('redactingOutput', () => {
  it('prints both streams with configured secrets redacted', () => {
    const captured = captureOutput();
    const output = redactingOutput(captured, new SecretRedactor(['key-for-a-local-endpoint-0f3c9a']));
    output.out('run r1: planning with key-for-a-local-endpoint-0f3c9a');
    output.err('fanout: HTTP 401: Incorrect API key provided: key-for-a-local-endpoint-0f3c9a.');
    expect(captured.stdout()).toBe('run r1: planning with [redacted]');
    expect(captured.stderr()).toBe('fanout: HTTP 401: Incorrect API key provided: [redacted].');
  });
});
