/**
 * The partner request signature (HMAC-SHA256), in one place: the API verifies with it and partners
 * can copy `signPartnerRequest` as it is (it needs only `node:crypto`).
 *
 * The string signed is five lines joined by `\n`:
 *
 * ```
 * NM1-HMAC-SHA256
 * <METHOD>                 upper case, e.g. POST
 * <path and query>         exactly as sent, e.g. /v1/partners/margin or /v1/...?a=1
 * <timestamp>              seconds since the epoch, the x-nm-timestamp header
 * <nonce>                  16–64 characters [A-Za-z0-9_-], the x-nm-nonce header, never reused
 * <sha256 of the body>     lower-case hex of the exact body bytes (of the empty string for a GET)
 * ```
 *
 * The signature is the lower-case hex HMAC-SHA256 of that string under the key's secret, sent as
 * `x-nm-signature`, with the key id in `x-nm-key`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_SCHEME = 'NM1-HMAC-SHA256';
export const PARTNER_HEADERS = {
  key: 'x-nm-key',
  timestamp: 'x-nm-timestamp',
  nonce: 'x-nm-nonce',
  signature: 'x-nm-signature',
} as const;
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

export interface SignedRequestParts {
  method: string;
  /** Path with its query string, as sent on the request line. */
  pathAndQuery: string;
  timestampSec: number;
  nonce: string;
  /** The exact body bytes (empty for a GET). */
  body: Uint8Array | string;
}

/** SHA-256 of the body, lower-case hex. */
export function bodySha256(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The string that is signed. */
export function stringToSign(p: SignedRequestParts, bodyHash = bodySha256(p.body)): string {
  return [
    SIGNATURE_SCHEME,
    p.method.toUpperCase(),
    p.pathAndQuery,
    String(p.timestampSec),
    p.nonce,
    bodyHash,
  ].join('\n');
}

/** The signature of a request: lower-case hex HMAC-SHA256 of `stringToSign` under `secret`. */
export function signPartnerRequest(secret: string, p: SignedRequestParts): string {
  return createHmac('sha256', secret).update(stringToSign(p)).digest('hex');
}

/** The four headers of a signed request. */
export function partnerHeaders(keyId: string, secret: string, p: SignedRequestParts): Record<string, string> {
  return {
    [PARTNER_HEADERS.key]: keyId,
    [PARTNER_HEADERS.timestamp]: String(p.timestampSec),
    [PARTNER_HEADERS.nonce]: p.nonce,
    [PARTNER_HEADERS.signature]: signPartnerRequest(secret, p),
  };
}

/** Constant-time comparison of an expected hex signature with the one sent (any length, any content). */
export function signatureMatches(expectedHex: string, sent: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(sent, 'utf8');
  // Compare equal-length buffers only; the length of a valid signature (64) is public.
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}
