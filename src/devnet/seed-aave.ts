/**
 * Funds persona wallets and opens their Aave positions through Aave's own entry points
 * (`approve` → `supply` → `borrow`, variable rate), exactly as a user's wallet would.
 *
 * WETH is obtained by wrapping ETH (`deposit()`), the other tokens are minted by Aave's test tokens.
 * USDC a persona borrows on Aave funds its perps margin and options cash first; only the shortfall is
 * minted, so a basis trade's perp margin really is borrowed money.
 */
import type { Address } from 'viem';
import { aavePoolAbi } from '../contracts/generated';
import type { AssetSymbol, TokenInfo } from '../config/manifest';
import { parseDecimalUnits } from '../common/amount';
import { write, type DevnetClients } from './chain';
import { erc20MintAbi } from './feeds';
import type { Persona } from './personas';

const VARIABLE_RATE = 2n;
const MAX_UINT = (1n << 256n) - 1n;

export function units(
  tokens: Record<AssetSymbol, TokenInfo>,
  sym: AssetSymbol,
  human: string,
  field: string,
): bigint {
  return parseDecimalUnits(field, human, tokens[sym].decimals);
}

/** USDC a persona needs in its wallet after its Aave actions, for the perps and options venues. */
export function venueUsdcNeed(p: Persona): string[] {
  const need: string[] = [];
  if (p.perps) need.push(p.perps.marginUsdc);
  if (p.options) need.push(p.options.cashUsdc);
  return need;
}

async function fund(
  c: DevnetClients,
  minter: Address,
  tokens: Record<AssetSymbol, TokenInfo>,
  to: Address,
  sym: AssetSymbol,
  amount: bigint,
): Promise<void> {
  if (amount <= 0n) return;
  if (sym === 'WETH') {
    await write(c, to, tokens.WETH.address, erc20MintAbi, 'deposit', [], {
      value: amount,
      label: `wrap ETH for ${to}`,
    });
  } else {
    await write(c, minter, tokens[sym].address, erc20MintAbi, 'mint', [to, amount], {
      label: `mint ${sym} to ${to}`,
    });
  }
}

export async function seedWalletsAndAave(
  c: DevnetClients,
  minter: Address,
  tokens: Record<AssetSymbol, TokenInfo>,
  pool: Address,
  personas: { persona: Persona; address: Address }[],
): Promise<void> {
  for (const { persona: p, address } of personas) {
    const f = `personas.${p.persona}`;
    const toFund = new Map<AssetSymbol, bigint>();
    const add = (sym: AssetSymbol, v: bigint): void => {
      toFund.set(sym, (toFund.get(sym) ?? 0n) + v);
    };
    for (const [sym, amt] of p.wallet ?? []) add(sym, units(tokens, sym, amt, `${f}.wallet.${sym}`));
    for (const [sym, amt] of p.aave?.supply ?? [])
      add(sym, units(tokens, sym, amt, `${f}.aave.supply.${sym}`));
    const borrowedUsdc = (p.aave?.borrow ?? [])
      .filter(([s]) => s === 'USDC')
      .reduce((acc, [, amt]) => acc + units(tokens, 'USDC', amt, `${f}.aave.borrow.USDC`), 0n);
    const venueUsdc = venueUsdcNeed(p).reduce(
      (acc, amt) => acc + units(tokens, 'USDC', amt, `${f}.venues.USDC`),
      0n,
    );
    if (venueUsdc > borrowedUsdc) add('USDC', venueUsdc - borrowedUsdc);
    for (const [sym, amount] of toFund) await fund(c, minter, tokens, address, sym, amount);

    if (!p.aave) continue;
    for (const [sym, amt] of p.aave.supply) {
      const amount = units(tokens, sym, amt, `${f}.aave.supply.${sym}`);
      await write(c, address, tokens[sym].address, erc20MintAbi, 'approve', [pool, MAX_UINT]);
      await write(c, address, pool, aavePoolAbi, 'supply', [tokens[sym].address, amount, address, 0], {
        label: `${p.persona} supplies ${amt} ${sym}`,
      });
    }
    for (const [sym, amt] of p.aave.borrow) {
      const amount = units(tokens, sym, amt, `${f}.aave.borrow.${sym}`);
      await write(
        c,
        address,
        pool,
        aavePoolAbi,
        'borrow',
        [tokens[sym].address, amount, VARIABLE_RATE, 0, address],
        {
          label: `${p.persona} borrows ${amt} ${sym}`,
        },
      );
    }
  }
}
