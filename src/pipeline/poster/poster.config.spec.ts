import { getAddress, keccak256, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { InvalidInputError } from '../../common/errors';
import type { AggregatorInfo } from '../../config/manifest';
import { loadPosterConfig } from './poster.config';
import { signersFor, watchedFeeds } from './wiring';

const key = (tag: string): Hex => keccak256(toHex(`poster config spec ${tag}`));
const RELAYER = key('relayer');
const base = { NETMARGIN_POSTER_RELAYER_KEY: RELAYER };

function refusal(env: Record<string, string>): InvalidInputError {
  try {
    loadPosterConfig(env);
  } catch (e) {
    if (e instanceof InvalidInputError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('poster configuration', () => {
  it('reads the defaults', () => {
    const c = loadPosterConfig(base);
    expect(c).toMatchObject({
      network: 'local',
      relayerKey: RELAYER,
      signerKeys: undefined,
      pollMs: 1_000,
      minChangeUsd6: 1_000_000n,
      minChangeBps: 50n,
      maxAgeSec: undefined,
      maxIndexerLagBlocks: 5n,
      maxBatchRecords: 500,
      maxCalldataBytes: 120_000,
      feeCapPerAccountWei: 100_000_000_000_000n,
      stuckBlocks: 3n,
      stuckMs: 20_000,
    });
  });

  it('reads overrides', () => {
    const c = loadPosterConfig({
      ...base,
      NETMARGIN_POSTER_SIGNER_KEYS: `${key('a')}, ${key('b')}`,
      NETMARGIN_POSTER_MAX_AGE_SEC: '900',
      NETMARGIN_POSTER_FEE_CAP_WEI: '123456789012345678901',
      NETMARGIN_POSTER_HEARTBEAT_SEC: '3600',
    });
    expect(c.signerKeys).toEqual([key('a'), key('b')]);
    expect(c.maxAgeSec).toBe(900n);
    expect(c.feeCapPerAccountWei).toBe(123456789012345678901n);
    expect(c.heartbeatSec).toBe(3_600);
  });

  it('names the variable that is missing or wrong, never echoing a key', () => {
    expect(refusal({}).field).toBe('NETMARGIN_POSTER_RELAYER_KEY');
    expect(refusal({ ...base, NETMARGIN_POSTER_MAX_BATCH: '0' }).message).toMatch(
      /NETMARGIN_POSTER_MAX_BATCH: "0" is not a whole number ≥ 1/,
    );
    expect(refusal({ ...base, NETMARGIN_POSTER_POLL_MS: 'soon' }).field).toBe('NETMARGIN_POSTER_POLL_MS');
    expect(refusal({ ...base, REDIS_URL: 'localhost:6379' }).field).toBe('REDIS_URL');
    expect(refusal({ ...base, NETMARGIN_RPC_URLS: 'ws://x' }).field).toBe('NETMARGIN_RPC_URLS');
    const twoRelayers = refusal({ NETMARGIN_POSTER_RELAYER_KEY: `${RELAYER},${key('x')}` });
    expect(twoRelayers.message).toMatch(/holds 2 keys/);
    const almost = `${key('s').slice(0, 60)}`;
    const bad = refusal({ ...base, NETMARGIN_POSTER_SIGNER_KEYS: `${key('a')},${almost}` });
    expect(bad.field).toBe('NETMARGIN_POSTER_SIGNER_KEYS');
    const shown = `${bad.message} ${JSON.stringify(bad.details)}`;
    expect(shown).not.toContain(almost.slice(2));
    expect(shown).not.toContain(key('a').slice(2));
  });
});

describe('signers and feeds from the manifest', () => {
  const signerKeys = [key('s1'), key('s2'), key('s3')];
  const agg = {
    signers: signerKeys
      .map((k) => ({ address: privateKeyToAccount(k).address, privateKey: k }))
      .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1)),
    threshold: 2,
    assets: [
      { symbol: 'WETH', feed: getAddress('0x00000000000000000000000000000000000000e1'), heartbeatSec: 7_200 },
      {
        symbol: 'aWETH',
        feed: getAddress('0x00000000000000000000000000000000000000e1'),
        heartbeatSec: 3_600,
      },
      {
        symbol: 'USDC',
        feed: getAddress('0x00000000000000000000000000000000000000e2'),
        heartbeatSec: 86_400,
      },
    ],
  } as unknown as AggregatorInfo;
  const cfg = loadPosterConfig(base);

  it('uses the manifest’s devnet keys unless keys are configured, all of them in the signer set', () => {
    expect(signersFor(cfg, agg).map((s) => s.address)).toEqual(agg.signers.map((s) => s.address));
    expect(signersFor({ ...cfg, signerKeys: [key('s1'), key('s2')] }, agg)).toHaveLength(2);
    expect(() => signersFor({ ...cfg, signerKeys: [key('s1')] }, agg)).toThrow(
      /1 signer keys for a threshold of 2/,
    );
    expect(() => signersFor({ ...cfg, signerKeys: [key('s1'), key('stranger')] }, agg)).toThrow(
      /not in the aggregator's signer set/,
    );
  });

  it('watches each feed once, at its strictest heartbeat or the configured one', () => {
    expect(watchedFeeds(agg, undefined).map((f) => [f.label, f.heartbeatSec])).toEqual([
      ['aWETH', 3_600],
      ['USDC', 86_400],
    ]);
    expect(watchedFeeds(agg, 60).map((f) => f.heartbeatSec)).toEqual([60, 60]);
  });
});
