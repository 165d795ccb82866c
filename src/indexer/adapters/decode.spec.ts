import {
  encodeAbiParameters,
  encodeEventTopics,
  erc20Abi,
  erc721Abi,
  getAddress,
  parseAbi,
  type Hex,
} from 'viem';
import { eventDecoder } from './decode';

const abi = parseAbi([
  'event Supply(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint16 indexed referral)',
  'event Withdraw(address indexed reserve, address indexed user, address indexed to, uint256 amount)',
]);
const reserve = '0x00000000000000000000000000000000000000aa' as const;
const user = '0x00000000000000000000000000000000000000bb' as const;

function supplyLog(amount: bigint): { data: Hex; topics: [Hex, ...Hex[]] } {
  const topics = encodeEventTopics({
    abi,
    eventName: 'Supply',
    args: { reserve, onBehalfOf: user, referral: 0 },
  });
  return {
    topics: topics as [Hex, ...Hex[]],
    data: encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [user, amount]),
  };
}

describe('eventDecoder', () => {
  it('decodes a wanted event by its selector, with its arguments', () => {
    const d = eventDecoder(abi)(supplyLog(5n));
    expect(d?.eventName).toBe('Supply');
    expect(d?.args).toMatchObject({ reserve: getAddress(reserve), onBehalfOf: getAddress(user), amount: 5n });
  });

  it('ignores events not asked for, unknown topics and a log without topics', () => {
    expect(eventDecoder(abi, ['Withdraw'])(supplyLog(5n))).toBeUndefined();
    expect(eventDecoder(abi)({ data: '0x', topics: [`0x${'12'.repeat(32)}`] })).toBeUndefined();
    expect(eventDecoder(abi)({ data: '0x', topics: [] as unknown as [Hex] })).toBeUndefined();
  });

  it('returns undefined for a log with the same selector but another layout (ERC-20 vs ERC-721 Transfer)', () => {
    const topics = encodeEventTopics({
      abi: erc20Abi,
      eventName: 'Transfer',
      args: { from: user, to: reserve },
    });
    const erc20 = {
      topics: topics as [Hex, ...Hex[]],
      data: encodeAbiParameters([{ type: 'uint256' }], [7n]),
    };
    expect(eventDecoder(erc20Abi, ['Transfer'])(erc20)?.args.value).toBe(7n);
    expect(eventDecoder(erc721Abi, ['Transfer'])(erc20)).toBeUndefined();
  });
});
