import { inspect } from 'node:util';
import { getAddress, keccak256, parseTransaction, recoverTransactionAddress, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { marginBatchTypedData } from '../../attestation';
import { LocalKeySigner, LocalTransactionSigner, parsePrivateKey, redactKeys } from './signer';

// A throwaway test key (never funded anywhere).
const KEY = keccak256(toHex('netmargin poster signer spec key')) as Hex;
const BARE = KEY.slice(2);
const TYPED = marginBatchTypedData(
  {
    paramsHash: keccak256(toHex('params')),
    timestampSec: 1n,
    deadlineSec: 2n,
    records: [
      {
        account: getAddress('0x00000000000000000000000000000000000A11cE'),
        imUsd6: 2n,
        mmUsd6: 1n,
        mtmUsd6: 0n,
        blockNumber: 1n,
        inputsHash: keccak256(toHex('in')),
      },
    ],
  },
  { chainId: 901, aggregator: getAddress('0x00000000000000000000000000000000000a6617') },
);

describe('local key signers', () => {
  it('sign as the key’s address', async () => {
    const s = new LocalKeySigner(KEY);
    const viemAccount = privateKeyToAccount(KEY);
    expect(s.address).toBe(viemAccount.address);
    expect(await s.signTypedData(TYPED)).toBe(await viemAccount.signTypedData(TYPED));
    const t = new LocalTransactionSigner(KEY);
    const raw = await t.signTransaction({
      type: 'eip1559',
      chainId: 901,
      nonce: 3,
      to: viemAccount.address,
      gas: 21_000n,
      maxFeePerGas: 2n,
      maxPriorityFeePerGas: 1n,
    });
    expect(parseTransaction(raw).nonce).toBe(3);
    expect(await recoverTransactionAddress({ serializedTransaction: raw as never })).toBe(
      viemAccount.address,
    );
  });

  it('never show the key in JSON, inspect or string output', () => {
    for (const s of [new LocalKeySigner(KEY), new LocalTransactionSigner(KEY)]) {
      const shown = [
        JSON.stringify(s),
        inspect(s, { showHidden: true, depth: 5 }),
        String(s),
        JSON.stringify({ s }),
      ];
      for (const text of shown) expect(text.toLowerCase()).not.toContain(BARE.toLowerCase());
      expect(JSON.stringify(s)).toContain(s.address);
    }
  });

  it('reject a malformed key without echoing it', () => {
    const bad = `${KEY.slice(0, 40)}zz${KEY.slice(42)}`;
    let caught: unknown;
    try {
      new LocalKeySigner(bad as Hex, 'NETMARGIN_POSTER_SIGNER_KEYS');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Error);
    const e = caught as Error;
    expect(e.message).toMatch(/NETMARGIN_POSTER_SIGNER_KEYS/);
    expect(`${e.message} ${e.stack ?? ''} ${JSON.stringify(e)}`).not.toContain(bad.slice(2, 40));
    expect(() => parsePrivateKey('0x1234', 'X')).toThrow(/X: is not a 32-byte private key/);
  });

  it('rebuild a signing failure without the key', async () => {
    const s = new LocalKeySigner(KEY);
    // A typed-data value the signer cannot encode makes viem throw; the message must not carry the key.
    const broken = {
      ...TYPED,
      message: { ...TYPED.message, timestamp: `key ${KEY}` },
    } as unknown as typeof TYPED;
    await expect(s.signTypedData(broken)).rejects.toThrow(/EIP-712 signing failed for 0x/);
    const err = (await s.signTypedData(broken).catch((x: unknown) => x)) as Error;
    expect(`${err.message} ${err.stack ?? ''}`).not.toContain(BARE);
  });

  it('redacts anything shaped like a private key', () => {
    expect(redactKeys(`key=${KEY}; short=0x1234`)).toBe('key=0x<redacted>; short=0x1234');
  });
});
