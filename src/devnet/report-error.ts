/** Prints an error for a CLI user (short message + what to do) and exits with status 1. */
import { NetmarginError } from '../common/errors';

export function formatCliError(e: unknown): string {
  if (e instanceof NetmarginError) return `error: ${e.shortMessage}\n${e.hint ? `${e.hint}\n` : ''}`;
  return `error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
}

export function reportErrorAndExit(e: unknown): never {
  process.stderr.write(formatCliError(e));
  process.exit(1);
}
