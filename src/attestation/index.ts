/**
 * The TypeScript side of `MarginAggregator` attestations: EIP-712 constants, batch building and
 * packing, signature collection. Shared by the devnet tests, `scripts/gas-report.ts` and the poster.
 */
export * from './eip712';
export * from './batch';
export * from './signers';
