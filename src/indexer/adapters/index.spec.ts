import type { DeploymentManifest } from '../../config/manifest';
import { createAdapters } from './index';

const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;

/** Only the manifest fields the factories read. */
function manifest(venues: DeploymentManifest['venues']): DeploymentManifest {
  return {
    aave: { pool: addr(1), protocolDataProvider: addr(2) },
    venues,
  } as unknown as DeploymentManifest;
}

describe('createAdapters', () => {
  it('builds one adapter per protocol deployed in the manifest, in registry order', () => {
    const all = createAdapters(
      manifest({
        perps: { contracts: { perpsMarket: addr(3), accountToken: addr(4) }, markets: [] },
        options: {
          contracts: { subAccounts: addr(5), cashAsset: addr(6), ethOptionAsset: addr(7) },
          markets: [{ id: 'ETH-OPTIONS', underlying: 'ETH', key: '0', expiriesSec: [] }],
        },
      }),
    );
    expect(all.map((a) => a.protocol)).toEqual(['aave-v3', 'perps', 'options']);
    expect(all.map((a) => a.ownership?.token)).toEqual([undefined, addr(4), addr(5)]);
  });

  it('leaves out a venue the chain does not have', () => {
    expect(createAdapters(manifest({ perps: null, options: null })).map((a) => a.protocol)).toEqual([
      'aave-v3',
    ]);
  });
});
