/**
 * The one error type users of netmargin see. Every error says what was wrong (`shortMessage`),
 * carries structured `details` (the field, the value, what is allowed) and a `cause` chain, and
 * where possible tells the user what to do (`hint`).
 */
export interface NetmarginErrorOptions {
  /** Machine-readable code, e.g. `INVALID_AMOUNT`, `STALE_PRICE`, `PORT_IN_USE`. */
  code: string;
  /** What to do about it, in one sentence. */
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class NetmarginError extends Error {
  override readonly name: string = 'NetmarginError';
  readonly code: string;
  readonly shortMessage: string;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(shortMessage: string, options: NetmarginErrorOptions) {
    super(options.hint ? `${shortMessage}\n${options.hint}` : shortMessage, { cause: options.cause });
    this.code = options.code;
    this.shortMessage = shortMessage;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }
}

/** Bad input from a user or a caller: names the field and the offending value. */
export class InvalidInputError extends NetmarginError {
  override readonly name: string = 'InvalidInputError';
  readonly field: string;

  constructor(field: string, problem: string, options: Partial<NetmarginErrorOptions> = {}) {
    super(`${field}: ${problem}`, {
      code: options.code ?? 'INVALID_INPUT',
      ...options,
      details: { field, ...options.details },
    });
    this.field = field;
  }
}
