import { inspect } from 'node:util';
import { InvalidInputError } from '../../common/errors';
import { loadPartnersConfig } from './partners.config';

const SECRET = 'a'.repeat(40);

function refusal(env: Record<string, string>): InvalidInputError {
  try {
    loadPartnersConfig(env);
  } catch (err) {
    if (err instanceof InvalidInputError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('loadPartnersConfig', () => {
  it('reads keys with their own or the default rate', () => {
    const c = loadPartnersConfig({
      NETMARGIN_PARTNER_KEYS: JSON.stringify([
        { id: 'acme', secret: SECRET },
        { id: 'big', secret: SECRET, ratePerWindow: 5000 },
      ]),
      NETMARGIN_PARTNER_RATE: '20',
    });
    expect(c.keys.get('acme')?.ratePerWindow).toBe(20);
    expect(c.keys.get('big')?.ratePerWindow).toBe(5000);
    expect(c.maxSkewSec).toBe(300);
  });

  it('keeps the secret out of anything printable', () => {
    const c = loadPartnersConfig({
      NETMARGIN_PARTNER_KEYS: JSON.stringify([{ id: 'acme', secret: SECRET }]),
    });
    expect(JSON.stringify([...c.keys.values()])).not.toContain(SECRET);
    expect(inspect(c, { depth: 10 })).not.toContain(SECRET);
  });

  it.each([
    ['not JSON', '[{'],
    ['not an array', '{"id":"acme"}'],
    ['a bad id', JSON.stringify([{ id: 'a b', secret: SECRET }])],
    ['a short secret', JSON.stringify([{ id: 'acme', secret: 'short' }])],
    [
      'a duplicate id',
      JSON.stringify([
        { id: 'acme', secret: SECRET },
        { id: 'acme', secret: SECRET },
      ]),
    ],
    ['a bad rate', JSON.stringify([{ id: 'acme', secret: SECRET, ratePerWindow: 0 }])],
  ])('refuses %s, naming the variable and never the secret', (_what, keys) => {
    const e = refusal({ NETMARGIN_PARTNER_KEYS: keys });
    expect(e.field).toBe('NETMARGIN_PARTNER_KEYS');
    expect(e.message).not.toContain(SECRET);
    expect(e.hint).toBeDefined();
  });

  it('refuses a bad number and an RPC URL that is not http(s)', () => {
    expect(refusal({ NETMARGIN_PARTNER_MAX_SKEW_SEC: '5m' }).field).toBe('NETMARGIN_PARTNER_MAX_SKEW_SEC');
    expect(refusal({ NETMARGIN_RPC_URLS: 'ws://x' }).field).toBe('NETMARGIN_RPC_URLS');
  });
});
