import { describe, expect, it } from '@jest/globals';
import { parseListenAddress, readOptions } from './options.ts';

describe('readOptions', () => {
  it('defaults to the three loopback ports', () => {
    expect(readOptions([], {})).toMatchObject({
      policy: undefined,
      listen: {
        providers: { host: '127.0.0.1', port: 15000 },
        forwardProxy: { host: '127.0.0.1', port: 15001 },
        admin: { host: '127.0.0.1', port: 15020 },
      },
      logLevel: 'info',
      backgroundNice: 19,
      trimStartupPages: true,
    });
  });

  it.each([
    [['--background-nice', '0'], {}, 0],
    [[], { CHAPERONE_BACKGROUND_NICE: '10' }, 10],
    [['--background-nice', '5'], { CHAPERONE_BACKGROUND_NICE: '10' }, 5],
  ])('background nice from %j and %j: %d', (argv, env, expected) => {
    expect(readOptions(argv, env).backgroundNice).toBe(expected);
  });

  it.each([
    [['--trim-startup-pages', 'off'], {}, false],
    [[], { CHAPERONE_TRIM_STARTUP_PAGES: 'off' }, false],
    [['--trim-startup-pages', 'on'], { CHAPERONE_TRIM_STARTUP_PAGES: 'off' }, true],
  ])('trim start-up pages from %j and %j: %s', (argv, env, expected) => {
    expect(readOptions(argv, env).trimStartupPages).toBe(expected);
  });

  it('takes flags over environment variables', () => {
    const options = readOptions(['--policy', 'p.yaml', '--admin-address', '127.0.0.1:0'], {
      CHAPERONE_POLICY_FILE: 'env.yaml',
      CHAPERONE_SECRETS_DIR: '/secrets',
      CHAPERONE_ADMIN_ADDRESS: ':15020',
    });
    expect(options).toMatchObject({
      policy: 'p.yaml',
      secretsDir: '/secrets',
      listen: { admin: { host: '127.0.0.1', port: 0 } },
    });
  });

  it("reads the admin address the webhook injects (':15020' = all interfaces)", () => {
    expect(readOptions([], { CHAPERONE_ADMIN_ADDRESS: ':15020' }).listen.admin).toEqual({
      host: '0.0.0.0',
      port: 15020,
    });
  });

  it.each([
    ['--nope'],
    ['extra'],
    ['--proxy-address', '15001'],
    ['--proxy-address', 'localhost:99999'],
    ['--background-nice', '20'],
    ['--background-nice', '-5'],
    ['--background-nice', 'low'],
    ['--trim-startup-pages', 'yes'],
  ])('refuses %j', (...argv) => {
    expect(() => readOptions(argv, {})).toThrow();
  });

  it.each([
    ['[::1]:15000', { host: '::1', port: 15000 }],
    ['0.0.0.0:1', { host: '0.0.0.0', port: 1 }],
  ])('parses %s', (value, expected) => {
    expect(parseListenAddress(value, '--x')).toEqual(expected);
  });
});
