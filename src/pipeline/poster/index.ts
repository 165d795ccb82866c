/**
 * The attestation poster (docs/pipeline.md "Poster"): `Poster`, its pure rules, input checks, signer
 * interfaces with local-key implementations, and its configuration. The NestJS module is imported from
 * `./poster.module` directly (it loads NestJS).
 */
export * from './checks';
export * from './policy';
export * from './poster';
export * from './poster.config';
export * from './signer';
export * from './wiring';
