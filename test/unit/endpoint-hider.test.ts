import { describe, expect, it } from 'vitest';
import { endpointHider } from '../../src/domain/endpoint-hider.js';

describe('endpointHider', () => {
  const hide = endpointHider('https://llm.internal.example.com:8443/v1/');

  it.each([
    ['the URL as configured', 'at https://llm.internal.example.com:8443/v1/ now', 'at [model endpoint]/ now'],
    [
      'the URL as messages show it',
      'model "m" at https://llm.internal.example.com:8443/v1 rejected',
      'model "m" at [model endpoint] rejected',
    ],
    ['the origin', 'GET https://llm.internal.example.com:8443/health', 'GET [model endpoint]/health'],
    ['host and port', 'connect ECONNREFUSED llm.internal.example.com:8443', 'connect ECONNREFUSED [model endpoint]'],
    [
      'the host name, in any case',
      'getaddrinfo ENOTFOUND LLM.Internal.Example.com',
      'getaddrinfo ENOTFOUND [model endpoint]',
    ],
  ])('hides %s', (_name, text, expected) => {
    expect(hide(text)).toBe(expected);
  });

  it('leaves other names alone, even ones that contain the host', () => {
    expect(hide('see docs.llm.internal.example.com and llm.internal.example.community')).toBe(
      'see docs.llm.internal.example.com and llm.internal.example.community',
    );
  });

  it('keeps a loopback host name on its own, but hides it with its port', () => {
    const local = endpointHider('http://127.0.0.1:11434/v1');
    expect(local('tests listen on 127.0.0.1; the model at 127.0.0.1:11434 and http://127.0.0.1:11434/v1')).toBe(
      'tests listen on 127.0.0.1; the model at [model endpoint] and [model endpoint]',
    );
  });

  it('changes nothing without an endpoint', () => {
    expect(endpointHider(undefined)('https://x.example.com')).toBe('https://x.example.com');
  });
});
