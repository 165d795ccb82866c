/**
 * `npm run devnet`: starts the local L2 world and keeps it up until Ctrl-C.
 * All the work is in `startDevnet` (devnet.ts); this file parses flags, prints and handles signals.
 */
import { DEVNET_USAGE, parseDevnetArgs } from './args';
import { ensureGeneratedContracts } from './ensure-generated';
import { reportErrorAndExit } from './report-error';

const REFRESH_INTERVAL_MS = 3_600_000;

async function main(): Promise<void> {
  const opts = parseDevnetArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${DEVNET_USAGE}\n`);
    return;
  }
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  ensureGeneratedContracts((l) => out(`  ${l}`));
  // Imported only now: devnet.ts needs the generated ABIs that the line above may have just built.
  const { startDevnet } = await import('./devnet');
  const devnet = await startDevnet({
    host: opts.host,
    port: opts.port,
    blockTimeSec: opts.blockTimeSec,
    manifestPath: opts.manifestPath,
    verbose: opts.verbose,
    log: (l) => out(`  ${l}`),
  });
  const m = devnet.manifest;
  out('');
  out(`RPC URL     ${devnet.rpcUrl}`);
  out(`chain id    ${m.network.chainId}`);
  out(`manifest    ${devnet.manifestPath ?? '(not written)'}`);
  out(`block time  ${m.network.blockTimeSec === 0 ? 'automine' : `${m.network.blockTimeSec} s`}`);
  out(`Aave pool   ${m.aave.pool}`);
  out(`perps       ${m.venues.perps ? Object.values(m.venues.perps.contracts)[0] : '(not deployed)'}`);
  out(`options     ${m.venues.options ? Object.values(m.venues.options.contracts)[0] : '(not deployed)'}`);
  out(
    `aggregator  ${m.aggregator ? `${m.aggregator.address} (${m.aggregator.threshold}-of-${m.aggregator.signers.length} signers)` : '(not deployed)'}`,
  );
  out('');
  out(`seeded accounts (${m.accounts.length}; keys from anvil's public test mnemonic, index in brackets):`);
  for (const a of m.accounts) {
    out(
      `  [${String(a.mnemonicIndex).padStart(2)}] ${a.address}  ${a.persona.padEnd(34)} ${a.venues.join('+') || 'wallet only'}`,
    );
  }
  out('');
  out(
    `ready in ${process.uptime().toFixed(1)} s (chain setup ${(devnet.setupMs / 1000).toFixed(1)} s) — Ctrl-C to stop`,
  );

  // Feeds revert reads once older than their heartbeat (a day here): re-post them every hour.
  const { refreshFeeds } = await import('./market');
  const refresher = setInterval(() => {
    refreshFeeds(devnet.clients, m).catch((e: unknown) =>
      process.stderr.write(`feed refresh failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  }, REFRESH_INTERVAL_MS);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(refresher);
    out(`\n${signal}: stopping anvil…`);
    void devnet.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch(reportErrorAndExit);
