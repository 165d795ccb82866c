/**
 * `netmargin`: portfolio health, what-if trades, attestation replay and the active parameter set,
 * from the command line. Reads the network's Redis stores (and, for replay, the chain); see
 * docs/cli.md. Exit status: 0 ok, 1 error or a replayed record that does not match, 2 bad usage.
 */
import { InvalidInputError, NetmarginError } from '../common/errors';
import { parseCliArgs, USAGE, UsageError, type CliCommand } from './args';
import { healthCommand, paramsCommand, whatIfCommand, type CommandOutput } from './commands';
import { CliContext } from './context';
import { toJson } from './format';
import { replayAttestation, replayText } from './replay';
import { parseTrade } from './trades';

async function run(cmd: Exclude<CliCommand, { name: 'help' }>, ctx: CliContext): Promise<CommandOutput> {
  switch (cmd.name) {
    case 'health':
      return healthCommand(ctx, cmd.address);
    case 'what-if':
      return whatIfCommand(
        ctx,
        cmd.address,
        cmd.trades.map((t, i) => parseTrade(t, i)),
      );
    case 'params':
      return paramsCommand(ctx);
    case 'replay': {
      const report = await replayAttestation(
        {
          client: ctx.client(),
          manifest: ctx.manifest(),
          params: await ctx.params(),
          results: await ctx.results(),
          positionsStore: await ctx.positions(),
        },
        cmd.txHash,
      );
      return { json: report, text: replayText(report), exitCode: report.matches ? 0 : 1 };
    }
  }
}

function errorText(e: unknown, json: boolean): string {
  if (json && e instanceof NetmarginError)
    return toJson({
      error: {
        code: e.code,
        message: e.shortMessage,
        field: e instanceof InvalidInputError ? e.field : undefined,
        hint: e.hint,
      },
    });
  if (e instanceof NetmarginError) return `error: ${e.shortMessage}${e.hint ? `\n${e.hint}` : ''}`;
  return `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
}

/** Runs the CLI on `argv` (without node and the script); resolves to the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  let cmd: CliCommand;
  try {
    cmd = parseCliArgs(argv);
    if (cmd.name === 'what-if') cmd.trades.forEach((t, i) => parseTrade(t, i));
  } catch (e) {
    process.stderr.write(`${errorText(e, json)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  if (cmd.name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ctx = new CliContext(cmd.options);
  try {
    const out = await run(cmd, ctx);
    process.stdout.write(`${cmd.options.json ? toJson(out.json) : out.text}\n`);
    return out.exitCode;
  } catch (e) {
    process.stderr.write(`${errorText(e, json)}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
