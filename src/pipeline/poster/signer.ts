/**
 * Signing keys behind interfaces, so a key never travels further than the object that uses it.
 *
 * - `AttestationSigner` (src/attestation/signers.ts) signs the EIP-712 `MarginBatch`: `LocalKeySigner`
 *   implements it with a private key from configuration. A KMS or remote signer implements the same two
 *   members — `address` and `signTypedData(typedData)` returning a 65-byte `r ‖ s ‖ v` signature — and is
 *   passed to the poster in its place; `collectSignatures` checks every signature it returns.
 * - `TransactionSigner` signs the relayer's EIP-1559 transactions (the account that pays gas):
 *   `LocalTransactionSigner` holds its key the same way; a remote one implements `signTransaction`.
 *
 * The key lives in a private class field: it is not an enumerable property, so `JSON.stringify`,
 * `util.inspect` and structured logs of the signer show only the address, and every error thrown from
 * here is rebuilt without the key (`redactKeys` removes any 32-byte hex string from messages).
 */
import { inspect } from 'node:util';
import type { Address, Hex, TransactionSerializableEIP1559 } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { AttestationSigner, MarginBatchTypedData } from '../../attestation';
import { InvalidInputError, NetmarginError } from '../../common/errors';

/** Signs the relayer's transactions. */
export interface TransactionSigner {
  readonly address: Address;
  signTransaction(tx: TransactionSerializableEIP1559): Promise<Hex>;
}

const KEY_LIKE = /0x[0-9a-fA-F]{64}/g;

/** Replaces every 32-byte hex string (a private key's shape) in `text` with `0x<redacted>`. */
export function redactKeys(text: string): string {
  return text.replace(KEY_LIKE, '0x<redacted>');
}

/** Parses a private key from configuration; the error names the variable, never the value. */
export function parsePrivateKey(raw: string, field: string): Hex {
  const v = raw.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(v))
    throw new InvalidInputError(field, 'is not a 32-byte private key (0x followed by 64 hex digits)', {
      hint: `Set ${field} to 0x-prefixed 64-digit hex keys, comma-separated where several are allowed; the value is not shown here.`,
    });
  return v as Hex;
}

function account(key: Hex, field: string): PrivateKeyAccount {
  try {
    return privateKeyToAccount(key);
  } catch {
    throw new InvalidInputError(field, 'is not a valid secp256k1 private key', {
      hint: `Check ${field}; the value is not shown here.`,
    });
  }
}

function safeError(what: string, address: Address, err: unknown): NetmarginError {
  const msg = err instanceof Error ? err.message : String(err);
  return new NetmarginError(`${what} failed for ${address}: ${redactKeys(msg)}`, {
    code: 'SIGNER_FAILED',
    hint: 'Check the signer configuration; keys are never printed.',
    details: { address },
  });
}

/** An `AttestationSigner` holding a private key in memory (devnet, or a key loaded from a secret store). */
export class LocalKeySigner implements AttestationSigner {
  readonly address: Address;
  readonly #account: PrivateKeyAccount;

  constructor(privateKey: Hex, field = 'signer key') {
    this.#account = account(parsePrivateKey(privateKey, field), field);
    this.address = this.#account.address;
  }

  async signTypedData(typedData: MarginBatchTypedData): Promise<Hex> {
    try {
      return await this.#account.signTypedData(typedData);
    } catch (err) {
      throw safeError('EIP-712 signing', this.address, err);
    }
  }

  toJSON(): { address: Address } {
    return { address: this.address };
  }

  [inspect.custom](): string {
    return `LocalKeySigner(${this.address})`;
  }
}

/** A `TransactionSigner` holding the relayer's private key in memory. */
export class LocalTransactionSigner implements TransactionSigner {
  readonly address: Address;
  readonly #account: PrivateKeyAccount;

  constructor(privateKey: Hex, field = 'relayer key') {
    this.#account = account(parsePrivateKey(privateKey, field), field);
    this.address = this.#account.address;
  }

  async signTransaction(tx: TransactionSerializableEIP1559): Promise<Hex> {
    try {
      return await this.#account.signTransaction(tx);
    } catch (err) {
      throw safeError('transaction signing', this.address, err);
    }
  }

  toJSON(): { address: Address } {
    return { address: this.address };
  }

  [inspect.custom](): string {
    return `LocalTransactionSigner(${this.address})`;
  }
}
