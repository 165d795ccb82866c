/**
 * `npm run devnet:market -- <path>`: drives prices, forwards and smiles of a running devnet.
 * The logic is `runMarketPath` (market.ts); this file parses flags and prints progress.
 */
import { formatUnits } from '../common/amount';
import { NetmarginError } from '../common/errors';
import { ASSET_SYMBOLS, loadManifest } from '../config/manifest';
import { MARKET_USAGE, parseMarketArgs } from './args';
import { makeClients } from './chain';
import { reportErrorAndExit } from './report-error';
import { ensureGeneratedContracts } from './ensure-generated';
import { MARKET_PATH_DESCRIPTIONS } from './market-paths';

async function main(): Promise<void> {
  const opts = parseMarketArgs(process.argv.slice(2));
  if (opts.help || opts.path === null) {
    process.stdout.write(`${MARKET_USAGE}\n`);
    return;
  }
  const manifest = loadManifest(opts.manifestPath);
  ensureGeneratedContracts((l) => process.stdout.write(`${l}\n`));
  const { runMarketPath } = await import('./market');
  const rpcUrl = opts.rpcUrl ?? manifest.network.rpcUrl;
  const c = makeClients(rpcUrl, manifest.network.chainId);
  await c.publicClient.getChainId().catch((cause: unknown) => {
    throw new NetmarginError(`No devnet answers at ${rpcUrl}`, {
      code: 'RPC_UNREACHABLE',
      hint: 'Start it with `npm run devnet` (in another terminal) or pass --rpc URL.',
      cause,
    });
  });
  process.stdout.write(`path ${opts.path}: ${MARKET_PATH_DESCRIPTIONS[opts.path]}\n`);
  const res = await runMarketPath(c, manifest, opts.path, {
    speed: opts.speed,
    steps: opts.steps,
    seed: opts.seed,
    clock: opts.instant ? 'instant' : 'realtime',
    onStep: (step, prices, total) => {
      const px = ASSET_SYMBOLS.map((s) => `${s} ${formatUnits(prices[s], 8)}`).join('  ');
      process.stdout.write(
        `step ${step.index}/${total}  t+${step.tSec}s  ${px}  vol x${step.volMultiplier.toFixed(2)}\n`,
      );
    },
  });
  process.stdout.write(`done: ${res.steps} steps\n`);
}

main().catch(reportErrorAndExit);
