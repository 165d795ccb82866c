import {
  encodeEventTopics,
  erc721Abi,
  getAddress,
  zeroAddress,
  type Address,
  type Hex,
  type Log,
} from 'viem';
import { IdentityIndex } from './identity';

const PERPS_NFT: Address = '0x2000000000000000000000000000000000000002';
const SUBACCOUNTS: Address = '0x3000000000000000000000000000000000000001';
const ALICE: Address = getAddress('0x' + 'aa'.repeat(20));
const BOB: Address = getAddress('0x' + 'bb'.repeat(20));

const transfer = (token: Address, from: Address, to: Address, tokenId: bigint): Log =>
  ({
    address: token,
    topics: encodeEventTopics({
      abi: erc721Abi,
      eventName: 'Transfer',
      args: { from, to, tokenId },
    }) as Hex[],
    data: '0x',
  }) as unknown as Log;

describe('IdentityIndex', () => {
  const make = () =>
    new IdentityIndex([
      { protocol: 'perps', token: PERPS_NFT },
      { protocol: 'options', token: SUBACCOUNTS },
    ]);

  it('gathers an owner’s perps accounts and options subaccounts under one identity', () => {
    const idx = make();
    idx.applyLogs([
      transfer(PERPS_NFT, zeroAddress, ALICE, 9n),
      transfer(SUBACCOUNTS, zeroAddress, ALICE, 3n),
      transfer(PERPS_NFT, zeroAddress, ALICE, 2n),
    ]);
    expect(idx.identityOf(ALICE.toLowerCase() as Address)).toEqual({
      owner: ALICE,
      accounts: { perps: [2n, 9n], options: [3n] },
    });
    expect(idx.holderFor(ALICE, 'options')).toEqual({ owner: ALICE, accountIds: [3n] });
    // The same token id on another venue is another account.
    expect(idx.ownerOf('options', 9n)).toBeUndefined();
  });

  it('moves an account to its new owner on Transfer and forgets it on burn', () => {
    const idx = make();
    const moves = idx.applyLogs([
      transfer(PERPS_NFT, zeroAddress, ALICE, 9n),
      transfer(PERPS_NFT, ALICE, BOB, 9n),
    ]);
    expect(moves.map((m) => m.to)).toEqual([ALICE, BOB]);
    expect(idx.ownerOf('perps', 9n)).toBe(BOB);
    expect(idx.identityOf(ALICE).accounts).toEqual({});
    expect(idx.identityOf(BOB).accounts).toEqual({ perps: [9n] });
    expect(idx.owners()).toEqual([BOB]);
    idx.applyLogs([transfer(PERPS_NFT, BOB, zeroAddress, 9n)]);
    expect(idx.ownerOf('perps', 9n)).toBeUndefined();
    expect(idx.owners()).toEqual([]);
  });

  it('ignores Transfers of tokens that are not venue accounts', () => {
    const idx = make();
    expect(idx.applyLogs([transfer(BOB, zeroAddress, ALICE, 1n)])).toEqual([]);
    expect(idx.identityOf(ALICE).accounts).toEqual({});
  });
});
