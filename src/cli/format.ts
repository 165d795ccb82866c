/**
 * Output helpers of the CLI: USD6 amounts with thousands separators, aligned text tables, and JSON
 * whose bigints are decimal strings (never converted through `Number`). Pure.
 */

/** USD6 (1 USD = 1e6) as `$1,234,567.89`, rounded half away from zero to cents; negatives `-$…`. */
export function formatUsd6(usd6: bigint): string {
  const negative = usd6 < 0n;
  const abs = negative ? -usd6 : usd6;
  const cents = (abs + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = (cents % 100n).toString().padStart(2, '0');
  return `${negative && cents !== 0n ? '-' : ''}$${whole}.${frac}`;
}

/** A float USD figure (the engine's breakdowns) formatted like `formatUsd6`. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return String(usd);
  const negative = usd < 0 && Math.round(Math.abs(usd) * 100) !== 0;
  const [whole, frac] = Math.abs(usd).toFixed(2).split('.') as [string, string];
  return `${negative ? '-' : ''}$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

/** A fraction as a percentage with `digits` decimals (`-0.1234` → `-12.34%`). */
export function formatPct(fraction: number | null, digits = 2): string {
  return fraction === null ? '—' : `${(fraction * 100).toFixed(digits)}%`;
}

/** A signed USD6 change: `+$1.00`, `-$2.50`, `$0.00`. */
export function formatUsd6Delta(usd6: bigint): string {
  return usd6 > 0n ? `+${formatUsd6(usd6)}` : formatUsd6(usd6);
}

export type Align = 'left' | 'right';

/**
 * Rows as an aligned table: the first row is the header, underlined; numeric-looking columns are
 * right-aligned unless `align` says otherwise. Every line ends without trailing spaces.
 */
export function table(rows: readonly (readonly string[])[], align?: readonly Align[]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) =>
    Math.max(...rows.map((r) => [...(r[c] ?? '')].length)),
  );
  const numeric = (c: number): boolean =>
    rows.slice(1).every((r) => /^[-+]?\$?[-+]?[0-9,.]+%?$|^—$|^$/.test(r[c] ?? ''));
  const aligns: Align[] = Array.from(
    { length: cols },
    (_, c) => align?.[c] ?? (c > 0 && numeric(c) ? 'right' : 'left'),
  );
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => {
        const pad = ' '.repeat(widths[c]! - [...cell].length);
        return aligns[c] === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  return [line(header!), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** `label  value` pairs, labels padded to one width. */
export function pairs(rows: readonly (readonly [string, string])[]): string {
  const w = Math.max(...rows.map(([k]) => [...k].length));
  return rows.map(([k, v]) => `${k}${' '.repeat(w - [...k].length)}  ${v}`.trimEnd()).join('\n');
}

/** JSON with bigints as decimal strings (2-space indent). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** Unix seconds as `2026-11-21 13:20:44 UTC`. */
export function formatTimeSec(sec: number): string {
  return `${new Date(sec * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/** A 0x hash shortened for tables: `0x1234abcd…ef01`. */
export function shortHex(h: string): string {
  return h.length <= 18 ? h : `${h.slice(0, 10)}…${h.slice(-4)}`;
}
