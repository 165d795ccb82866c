// Number formatting for the dashboard. Amounts arrive as decimal strings of USD6 (1 USD = 1e6)
// and are formatted with BigInt only, so no digit is lost to floating point.

const USD6 = 1_000_000n;

/** Groups the digits of a non-negative integer string in threes: 1234567 → 1,234,567. */
export function groupDigits(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Parses a decimal integer string (optionally negative) into a BigInt; throws on anything else. */
export function parseIntString(s) {
  if (typeof s !== 'string' || !/^-?\d+$/.test(s)) throw new Error(`not a decimal integer string: ${s}`);
  return BigInt(s);
}

/**
 * USD6 decimal string → dollars with cents, rounded half away from zero: "1234567891" → "$1,234.57",
 * "-500000" → "−$0.50".
 */
export function formatUsd6(s) {
  const v = parseIntString(s);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const cents = (abs + 5_000n) / 10_000n; // USD6 → cents, half up
  const dollars = cents / 100n;
  const rest = (cents % 100n).toString().padStart(2, '0');
  return `${neg && cents > 0n ? '−' : ''}$${groupDigits(dollars.toString())}.${rest}`;
}

/** USD6 decimal string → the exact dollar amount with all six decimals: "1500000" → "1.500000". */
export function exactUsd6(s) {
  const v = parseIntString(s);
  const neg = v < 0n;
  const abs = neg ? -v : v;
  return `${neg ? '-' : ''}${(abs / USD6).toString()}.${(abs % USD6).toString().padStart(6, '0')}`;
}

/** A float USD figure of the engine's breakdowns (display only): "$1,234.57". */
export function formatUsdFloat(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
  const s = Math.abs(x).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return `${x < 0 && s !== '0.00' ? '−' : ''}$${s}`;
}

/** A plain float with `digits` decimals, or an em dash. */
export function formatNumber(x, digits = 2) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '—';
  const s = Math.abs(x).toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return `${x < 0 && Number(s.replace(/,/g, '')) !== 0 ? '−' : ''}${s}`;
}

/** A fraction as a percentage: 0.1234 → "12.34 %". */
export function formatPct(x, digits = 2) {
  if (x === null || x === undefined) return '—';
  return `${formatNumber(x * 100, digits)} %`;
}

/** A margin ratio (adjusted equity / MM): 1.5 → "1.50×"; null (no MM) → "no requirement". */
export function formatRatio(x) {
  if (x === null || x === undefined) return 'no requirement';
  return `${formatNumber(x, 2)}×`;
}

/** Decimal block number string with grouping: "12345" → "12,345". */
export function formatBlock(s) {
  return groupDigits(parseIntString(s).toString());
}

/**
 * Scales a USD6 string into [0, 1] against `maxS` (both BigInt-exact; the result is for drawing
 * only). Negative values give 0.
 */
export function share(s, maxS) {
  const v = parseIntString(s);
  const max = parseIntString(maxS);
  if (max <= 0n || v <= 0n) return 0;
  if (v >= max) return 1;
  return Number((v * 10_000n) / max) / 10_000;
}
