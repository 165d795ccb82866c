/**
 * The operations endpoints' configuration, from environment variables at start.
 *
 * | Variable | Default | Meaning |
 * | --- | --- | --- |
 * | `API_ADMIN_TOKEN` | none | admin token for Bull Board at `/queues` (Bearer, or Basic with any user and the token as password); unset = `/queues` always answers 401 |
 * | `NETMARGIN_READY_MAX_LAG_BLOCKS` | 5 | `/ready` fails when indexing is further than this behind the chain head |
 * | `NETMARGIN_RPC_URLS` | the manifest's `network.rpcUrl` | RPC checked by `/ready` and read for the head in `/metrics` |
 */
import { InvalidInputError } from '../../common/errors';
import { rpcUrlFromEnv, wholeEnv, type Env } from '../partners/partners.config';

export interface OpsConfig {
  /** Checks an admin credential in constant time; the token itself is not kept in a readable field. */
  adminCheck: ((authorization: string | undefined) => boolean) | undefined;
  maxLagBlocks: number;
  rpcUrl: string | undefined;
}

export function loadOpsConfig(env: Env, check: (token: string) => OpsConfig['adminCheck']): OpsConfig {
  const token = env.API_ADMIN_TOKEN?.trim();
  if (token !== undefined && token !== '' && token.length < 16)
    throw new InvalidInputError('API_ADMIN_TOKEN', 'is shorter than 16 characters', {
      hint: 'Generate one with `openssl rand -hex 24`, or unset it to keep /queues closed.',
    });
  return {
    adminCheck: token ? check(token) : undefined,
    maxLagBlocks: wholeEnv(env, 'NETMARGIN_READY_MAX_LAG_BLOCKS', 0, 1_000_000, 5),
    rpcUrl: rpcUrlFromEnv(env),
  };
}
