import { createHmac } from 'node:crypto';
import { bodySha256, partnerHeaders, signatureMatches, signPartnerRequest, stringToSign } from './signing';

/** The worked example of docs/api.md ("Signing a request"); the hashes were computed with openssl. */
const EXAMPLE = {
  secret: '7f3c9a1e5b2d48f09c6e1a3b5d7f9e2c4a6b8d0f1e3c5a7b9d2f4e6a8c0b1d3e',
  method: 'POST',
  pathAndQuery: '/v1/partners/margin',
  timestampSec: 1_767_225_600,
  nonce: '3f2a9c1d7e5b4a60',
  body: '{"accounts":["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"]}',
  bodySha256: '8c7929cf871c477b9e743aaa6af456b39da238a05366116b90543a7059cf56b0',
  signature: '0b989af58711743ae2b3b7beab2b03413eae6c21437ed92e0e721e78126747d1',
};

describe('partner request signing', () => {
  it('reproduces the documented worked example (openssl-computed)', () => {
    expect(bodySha256(EXAMPLE.body)).toBe(EXAMPLE.bodySha256);
    expect(signPartnerRequest(EXAMPLE.secret, EXAMPLE)).toBe(EXAMPLE.signature);
  });

  it('signs five lines: scheme, upper-case method, path and query, timestamp, nonce, body hash', () => {
    expect(stringToSign({ ...EXAMPLE, method: 'post' }).split('\n')).toEqual([
      'NM1-HMAC-SHA256',
      'POST',
      '/v1/partners/margin',
      '1767225600',
      '3f2a9c1d7e5b4a60',
      EXAMPLE.bodySha256,
    ]);
  });

  it('hashes an empty body for a GET', () => {
    expect(bodySha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it.each([
    ['the path', { pathAndQuery: '/v1/partners/margin?x=1' }],
    ['the timestamp', { timestampSec: EXAMPLE.timestampSec + 1 }],
    ['the nonce', { nonce: '3f2a9c1d7e5b4a61' }],
    ['the body', { body: EXAMPLE.body.replace('Aed', 'AeD') }],
    ['the method', { method: 'GET' }],
  ])('changes when %s changes', (_what, change) => {
    expect(signPartnerRequest(EXAMPLE.secret, { ...EXAMPLE, ...change })).not.toBe(EXAMPLE.signature);
  });

  it('puts the key id, timestamp, nonce and signature in the four headers', () => {
    expect(partnerHeaders('acme', EXAMPLE.secret, EXAMPLE)).toEqual({
      'x-nm-key': 'acme',
      'x-nm-timestamp': '1767225600',
      'x-nm-nonce': '3f2a9c1d7e5b4a60',
      'x-nm-signature': EXAMPLE.signature,
    });
  });

  it('compares signatures exactly, whatever their length', () => {
    const sig = createHmac('sha256', 'k').update('m').digest('hex');
    expect(signatureMatches(sig, sig)).toBe(true);
    expect(signatureMatches(sig, sig.toUpperCase())).toBe(false);
    expect(signatureMatches(sig, sig.slice(0, -1))).toBe(false);
    expect(signatureMatches(sig, '')).toBe(false);
  });
});
