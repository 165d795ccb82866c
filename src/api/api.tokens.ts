/**
 * Injection tokens of the API's shared providers (`ApiCoreModule`, global): feature modules
 * (accounts, partners, operations, dashboard) inject these instead of opening their own connections.
 */
export const API_CONFIG = 'api.config';
/** The shared ioredis connection (commands only; a blocking read needs its own `duplicate()`). */
export const API_REDIS = 'api.redis';
/** `RedisRiskResultStore` of the network. */
export const API_RESULTS = 'api.results';
/** `ParamStore` of the network. */
export const API_PARAMS = 'api.params';
/** The positions store, read only (`PositionsReader`: `get(owner)`). */
export const API_POSITIONS = 'api.positions';
/** `RedisMarketHistory`: recorded markets by block. */
export const API_MARKETS = 'api.markets';
/** `StalenessRules` (from the manifest when configured). */
export const API_STALENESS_RULES = 'api.staleness-rules';
/** `(event, fields) => void`: structured log lines. */
export const API_LOG = 'api.log';
/** `AccountsService`. */
export const API_ACCOUNTS = 'api.accounts';
