import { describe, expect, it } from '@jest/globals';
import { cardIssuerValid, ibanValid, luhnValid, shannonEntropy, ssnValid } from './checksums.ts';
import { scanText } from './scan.ts';
import { ALL_DETECTORS, detectorSet, type Detector, type Match } from './types.ts';

/** What the detectors find in `text`, as `detector:value`. */
function found(text: string, detectors = ALL_DETECTORS): string[] {
  const out: Match[] = [];
  scanText(text, detectors, out);
  return out.map((m) => `${m.detector}:${text.slice(m.start, m.end)}`);
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
// Built at run time so that no complete credential-shaped literal sits in the repository.
const key = (prefix: string, body: string): string => prefix + body;
const OPENAI = key('sk-proj-', 'Zq3xT9vB2mK8pL4wN7rY1cF6hJ0dS5aGe2Rt');
const ANTHROPIC = key('sk-ant-', 'api03-Xy7Qm2Lp9Vb4Nc8Rt1Zs6Kd3Wf5Hg0Ja-Pq2Wn8Xc4Vb7Mz1Lk9Jh6Gf3Ds5Aa');
const AWS = key('AKIA', 'Q3ZL7XW2M5N4B6V3');
const GITHUB = key('ghp_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0');
const SLACK = key('xoxb-', '2481632641-2481632641282-AbCdEfGhIjKlMnOpQrStUvWx');
const GOOGLE = key('AIza', 'SyB3x9Zk2LmN4pQ7rS1tU5vW8xY0zA6bC3d');

describe('scanText positives', () => {
  it.each<[Detector, string, string]>([
    ['email', 'write to jane.doe@example.com today', 'jane.doe@example.com'],
    ['email', 'cc: kim.lee+orders@mail.example.co.uk.', 'kim.lee+orders@mail.example.co.uk'],
    ['email', '<P.Novak@Example.ORG>', 'P.Novak@Example.ORG'],
    ['phone', 'call +1 415 555 2671 now', '+1 415 555 2671'],
    ['phone', 'call +14155552671 now', '+14155552671'],
    ['phone', 'ring +44 20 7946 0958', '+44 20 7946 0958'],
    ['phone', 'ring 0044 20 7946 0958', '0044 20 7946 0958'],
    ['phone', 'office (212) 555-0147', '(212) 555-0147'],
    ['phone', 'office 212-555-0147', '212-555-0147'],
    ['phone', 'office 212.555.0147', '212.555.0147'],
    ['phone', 'uk 020 7946 0958', '020 7946 0958'],
    ['phone', 'mobile 07700 900123', '07700 900123'],
    ['phone', 'fr 01 23 45 67 89', '01 23 45 67 89'],
    ['phone', 'phone: 4155552671', '4155552671'],
    ['credit-card', 'visa 4111 1111 1111 1111 exp', '4111 1111 1111 1111'],
    ['credit-card', 'mc 5555-5555-5555-4444', '5555-5555-5555-4444'],
    ['credit-card', 'amex 3782 822463 10005', '3782 822463 10005'],
    ['credit-card', 'card 4012888888881881', '4012888888881881'],
    ['credit-card', 'card 4111 1111 1111 1111 2027', '4111 1111 1111 1111'],
    ['credit-card', 'discover 6011 1111 1111 1117', '6011 1111 1111 1117'],
    ['us-ssn', 'ssn 123-45-6789.', '123-45-6789'],
    ['us-ssn', 'ssn 123 45 6789', '123 45 6789'],
    ['us-ssn', 'SSN: 123456789', '123456789'],
    ['iban', 'IBAN DE89 3704 0044 0532 0130 00 please', 'DE89 3704 0044 0532 0130 00'],
    ['iban', 'to GB82WEST12345698765432', 'GB82WEST12345698765432'],
    ['iban', 'to GB82 WEST 1234 5698 7654 32.', 'GB82 WEST 1234 5698 7654 32'],
    ['iban', 'FR14 2004 1010 0505 0001 3M02 606', 'FR14 2004 1010 0505 0001 3M02 606'],
    ['iban', 'NO9386011117947', 'NO9386011117947'],
    ['secret', `key ${OPENAI} in env`, OPENAI],
    ['secret', ANTHROPIC, ANTHROPIC],
    ['secret', `aws ${AWS}.`, AWS],
    ['secret', `token ${GITHUB}`, GITHUB],
    ['secret', SLACK, SLACK],
    ['secret', `maps ${GOOGLE}`, GOOGLE],
    [
      'secret',
      `stripe ${key('sk_live_', '51H8xZq3T9vB2mK8pL4wN7rY1c')}`,
      key('sk_live_', '51H8xZq3T9vB2mK8pL4wN7rY1c'),
    ],
    [
      'secret',
      'hook https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX now',
      'https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGHijklMNOPqrstUVWX',
    ],
    [
      'secret',
      'x -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY----- y',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----',
    ],
    [
      'secret',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n',
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n',
    ],
    ['secret', 'password = "Summer2024!"', 'Summer2024!'],
    ['secret', '{"api_key": "f3a9c2e1b7d04c5a"}', 'f3a9c2e1b7d04c5a'],
    [
      'secret',
      'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzz1234abcd',
      'wJalrXUtnFEMIK7MDENGbPxRfiCYzz1234abcd',
    ],
    ['secret', 'Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0', '9f8e7d6c5b4a39281706f5e4d3c2b1a0'],
    ['jwt', `Bearer ${JWT}`, JWT],
    ['ip-address', 'server 10.0.0.1 down', '10.0.0.1'],
    ['ip-address', 'from 203.0.113.42:8080', '203.0.113.42'],
    ['ip-address', 'v6 2001:db8::ff00:42:8329 here', '2001:db8::ff00:42:8329'],
    ['ip-address', 'link fe80::1 local', 'fe80::1'],
  ])('%s in %j', (detector, text, value) => {
    expect(found(text)).toContain(`${detector}:${value}`);
  });
});

describe('scanText look-alike negatives', () => {
  it.each<[string, string]>([
    ['a Luhn-invalid card number', 'card 4111 1111 1111 1112'],
    ['a Luhn-valid number with no card issuer', 'ref 1234 5678 9012 3452'],
    ['an order number after "order"', 'order 4111111111111111 shipped'],
    ['a card number glued to a word', 'id_4111111111111111'],
    ['an SSN with area 000', 'ssn 000-12-3456'],
    ['an SSN with area 666', 'ssn 666-12-3456'],
    ['an SSN with area 9xx', 'ssn 912-12-3456'],
    ['an SSN with group 00', 'ssn 123-00-4567'],
    ['an SSN with serial 0000', 'ssn 123-45-0000'],
    ['the advertised SSN', 'ssn 078-05-1120'],
    ['nine bare digits without SSN context', 'tracking 123456789'],
    ['an SSN-shaped part of a longer number', 'part 12-123-45-6789'],
    ['a checksum-invalid IBAN', 'IBAN DE89 3704 0044 0532 0130 01'],
    ['an IBAN of the wrong length', 'IBAN DE89 3704 0044 0532 0130'],
    ['an unknown IBAN country', 'ZZ89 3704 0044 0532 0130 00'],
    ['a date', 'on 2024-10-15 at 10:30'],
    ['a date and time', 'at 2024-10-15 10:30:00'],
    ['a price list', 'costs 0.99 1.49 2.00 and 12.50'],
    ['a version', 'node 24.21.0 and v1.2.3.4.5'],
    ['a ten-digit number without phone context', 'invoice 4155552671'],
    ['a NANP look-alike with area code 1xx', '123-555-0147'],
    ['an asset name', 'icon@2x.png and logo@3x.jpg'],
    ['a scoped package', 'npm i @types/node@24'],
    ['a mention', 'thanks @jane for this'],
    ['a local address', 'root@localhost'],
    ['a documentation key placeholder', 'sk-xxxxxxxxxxxxxxxxxxxxxxxx'],
    ['a hyphenated word starting with sk-', 'task-based and risk-aware planning'],
    ['words after sk-', 'sk-this-is-not-a-real-key-at-all'],
    ['an AWS user id (not a secret)', 'AIDAJQABLZS4A3QDU576Q'],
    ['AKIA inside a longer token', 'xAKIAQ3ZL7XW2M5N4B6V3'],
    ['a typed config field', 'token: string'],
    ['a placeholder value', 'api_key: YOUR_API_KEY'],
    ['a template value', 'password=${DB_PASSWORD}'],
    ['a masked value', 'password: ********'],
    ['an earlier placeholder', 'password: [SECRET_1]'],
    ['a JWT-looking string whose header names no algorithm', 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxIn0.abc'],
    ['a JWT-looking string whose header is not JSON', 'eyJmb28iOiJiYXIi.eyJzdWIiOiIxIn0.abc'],
    ['an octet over 255', 'host 256.1.1.1'],
    ['C++ scope', 'std::vector<int> and a::b'],
    ['a clock time', 'meet at 10:30:00'],
    ['a MAC-like hex pair list', 'ab:cd'],
  ])('%s', (_name, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('scanText behaviour', () => {
  it('finds only the detectors that are on', () => {
    const text = 'jane@example.com +1 415 555 2671 10.0.0.1';
    expect(found(text, detectorSet(['email']))).toEqual(['email:jane@example.com']);
    expect(found(text, detectorSet(['phone']))).toEqual(['phone:+1 415 555 2671']);
    expect(found(text, detectorSet([]))).toEqual([]);
  });

  it('ip-address is off by default', async () => {
    const { DEFAULT_DETECTORS } = await import('../../../../api/src/policy/spec.ts');
    expect(found('10.0.0.1 jane@example.com', detectorSet(DEFAULT_DETECTORS))).toEqual([
      'email:jane@example.com',
    ]);
  });

  it('returns matches in order, without overlaps', () => {
    const text = `${JWT} then password="${OPENAI}" then jane@example.com and 4111 1111 1111 1111`;
    const out: Match[] = [];
    scanText(text, ALL_DETECTORS, out);
    for (let i = 1; i < out.length; i++) expect(out[i]!.start).toBeGreaterThanOrEqual(out[i - 1]!.end);
    expect(out.map((m) => m.detector)).toEqual(['jwt', 'secret', 'email', 'credit-card']);
  });

  it('stays linear on pathological input', () => {
    const inputs = [
      '1 '.repeat(500_000),
      '@a'.repeat(500_000),
      'a@'.repeat(500_000),
      'eyJ'.repeat(300_000),
      '.eyJ'.repeat(250_000),
      'sk-'.repeat(300_000),
      'AKIA'.repeat(250_000),
      'password='.repeat(100_000),
      '-----BEGIN '.repeat(90_000),
      '1.'.repeat(500_000),
      ':'.repeat(1_000_000),
      '4'.repeat(1_000_000),
    ];
    for (const input of inputs) {
      const started = performance.now();
      scanText(input, ALL_DETECTORS, []);
      expect(performance.now() - started).toBeLessThan(3000);
    }
  });
});

describe('checksums', () => {
  it.each([
    ['4111111111111111', true],
    ['4111111111111112', false],
    ['79927398713', true],
    ['0', true],
  ])('luhn %s', (digits, valid) => expect(luhnValid(digits)).toBe(valid));

  it.each([
    ['4111111111111111', true],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['1234567890123452', false],
    ['411111111111111', false],
  ])('card issuer %s', (digits, valid) => expect(cardIssuerValid(digits)).toBe(valid));

  it.each([
    ['DE89370400440532013000', true],
    ['DE89370400440532013001', false],
    ['GB82WEST12345698765432', true],
    ['GB82WEST1234569876543', false],
    ['XX00000000000000', false],
  ])('IBAN %s', (iban, valid) => expect(ibanValid(iban)).toBe(valid));

  it.each([
    ['123', '45', '6789', true],
    ['000', '45', '6789', false],
    ['666', '45', '6789', false],
    ['900', '45', '6789', false],
    ['123', '00', '6789', false],
    ['123', '45', '0000', false],
  ])('SSN %s-%s-%s', (a, g, s, valid) => expect(ssnValid(a, g, s)).toBe(valid));

  it('entropy', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('abcdefgh')).toBe(3);
  });
});
