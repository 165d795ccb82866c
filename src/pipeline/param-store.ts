/**
 * `ParamStore`: versioned risk parameter sets in Redis (`ParamReader` plus `publish`).
 *
 * A set's hash is sha256 over the engine's canonical serialization of `{ params, history,
 * liquidity, window }` (`paramSetHash`): the version, the creation time and the reason are not part
 * of it. `publish(draft, reason)` compares that hash with the active set's, in one Lua script:
 * identical content returns the active set and writes nothing; different content becomes version
 * active + 1, is stored, made active, and logged once with the old and new version and hash.
 * Nothing changes a set silently: a stored version is never rewritten, and every version stays
 * readable by number and by hash (`byHash` answers the newest version with that hash).
 */
import type { Redis } from 'ioredis';
import type { Hex } from 'viem';
import { InvalidInputError, NetmarginError } from '../common/errors';
import type { PipelineKeys } from '../indexer/redis/keys';
import { deserialize, serialize } from '../indexer/redis/serialize';
import { validateRiskParams } from '../risk';
import { canonicalize, sha256Hex } from '../risk/hash';
import type { ParamReader, ParamSet } from './types';

/** What a publisher hands in: a set without its version, hash, time and reason. */
export type ParamDraft = Pick<ParamSet, 'params' | 'history' | 'liquidity' | 'window'>;

/** The set's hash: sha256 of the canonical `{ params, history, liquidity, window }`. */
export function paramSetHash(d: ParamDraft): Hex {
  return sha256Hex(
    canonicalize({ params: d.params, history: d.history, liquidity: d.liquidity, window: d.window }),
  );
}

/**
 * KEYS: active, versions, hashes, byHash. ARGV: hash, serialized set with version placeholder,
 * placeholder. Returns { version, created (0/1), previous version or 0, previous hash or '' }.
 */
const PUBLISH_LUA = `
local active = redis.call('GET', KEYS[1])
local prevHash = ''
if active then
  prevHash = redis.call('HGET', KEYS[3], active) or ''
  if prevHash == ARGV[1] then return { tonumber(active), 0, tonumber(active), prevHash } end
end
local v = redis.call('HLEN', KEYS[2]) + 1
local body = string.gsub(ARGV[2], ARGV[3], tostring(v), 1)
redis.call('HSET', KEYS[2], v, body)
redis.call('HSET', KEYS[3], v, ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], v)
redis.call('SET', KEYS[1], v)
return { v, 1, tonumber(active or '0'), prevHash }
`;

/** Stands in for the version in the serialized set until the script knows it (never a JSON value). */
const VERSION_PLACEHOLDER = '"__netmargin_param_version__"';

export interface PublishResult {
  set: ParamSet;
  /** False when the content equals the active set's (nothing was written). */
  created: boolean;
  previous: { version: number; hash: Hex } | null;
}

export class ParamStore implements ParamReader {
  constructor(
    private readonly redis: Redis,
    private readonly keys: PipelineKeys['params'],
    private readonly log: (event: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  /**
   * Publishes `draft` unless the active set has the same content. Refuses parameters the engine
   * would refuse (`validateRiskParams`) and a window that does not match the history.
   */
  async publish(draft: ParamDraft, reason: string, nowMs: number = Date.now()): Promise<PublishResult> {
    validateRiskParams(draft.params);
    checkDraft(draft);
    if (reason.trim() === '')
      throw new InvalidInputError('reason', 'is empty', {
        hint: 'Say why the set exists: initial, scheduled re-estimation, operator.',
      });
    const hash = paramSetHash(draft);
    const template = serialize({
      version: 0,
      hash,
      params: draft.params,
      history: draft.history,
      liquidity: draft.liquidity,
      window: draft.window,
      createdAtMs: nowMs,
      reason,
    }).replace('"version":0', `"version":${VERSION_PLACEHOLDER}`);
    const [version, created, prevVersion, prevHash] = (await this.redis.eval(
      PUBLISH_LUA,
      4,
      this.keys.active,
      this.keys.versions,
      this.keys.hashes,
      this.keys.byHash,
      hash,
      template,
      // A Lua pattern: escape its magic characters.
      VERSION_PLACEHOLDER.replace(/[%^$().[\]*+\-?]/g, '%$&'),
    )) as [number, number, number, string];
    const set = await this.byVersion(version);
    if (!set)
      throw new NetmarginError(`Parameter set version ${version} vanished right after publication`, {
        code: 'PARAMS_MISSING',
        hint: 'Something deleted the params keys concurrently; check for a second process clearing Redis.',
      });
    const previous = prevVersion > 0 ? { version: prevVersion, hash: prevHash as Hex } : null;
    if (created === 1)
      this.log('params.published', {
        reason,
        oldVersion: previous?.version ?? null,
        oldHash: previous?.hash ?? null,
        newVersion: version,
        newHash: hash,
      });
    return { set, created: created === 1, previous };
  }

  /** The active set; refuses when none was published yet. */
  async active(): Promise<ParamSet> {
    const v = await this.redis.get(this.keys.active);
    const set = v === null ? undefined : await this.byVersion(Number(v));
    if (!set)
      throw new NetmarginError('No risk parameter set has been published', {
        code: 'NO_PARAM_SET',
        hint: 'Publish the initial set first (ParamStore.publish, done by the risk role at start).',
      });
    return set;
  }

  /** The active set, or undefined when none was published. */
  async activeOrUndefined(): Promise<ParamSet | undefined> {
    const v = await this.redis.get(this.keys.active);
    return v === null ? undefined : this.byVersion(Number(v));
  }

  async byVersion(version: number): Promise<ParamSet | undefined> {
    const text = await this.redis.hget(this.keys.versions, String(version));
    return text === null ? undefined : deserialize<ParamSet>(text);
  }

  async byHash(hash: Hex): Promise<ParamSet | undefined> {
    const v = await this.redis.hget(this.keys.byHash, hash);
    return v === null ? undefined : this.byVersion(Number(v));
  }

  /** Every published version, oldest first. */
  async versions(): Promise<number[]> {
    return (await this.redis.hkeys(this.keys.versions)).map(Number).sort((a, b) => a - b);
  }
}

function checkDraft(d: ParamDraft): void {
  const { window: w, history: h } = d;
  if (!Number.isSafeInteger(w.count) || w.count < 2)
    throw new InvalidInputError('window.count', `${w.count} is not a whole number ≥ 2`, {
      hint: 'Volatility needs at least two closes.',
    });
  if (w.intervalSec !== h.intervalSec)
    throw new InvalidInputError(
      'window.intervalSec',
      `${w.intervalSec} differs from history.intervalSec ${h.intervalSec}`,
    );
  for (const [u, closes] of Object.entries(h.closesUsdByUnderlying))
    if (closes.length !== w.count)
      throw new InvalidInputError(
        `history.closesUsdByUnderlying.${u}`,
        `has ${closes.length} closes, the window says ${w.count}`,
      );
}
