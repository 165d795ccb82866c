import { adminTokenCheck } from './admin-auth';
import { loadOpsConfig } from './ops.config';
import { parseMetricField } from './ops.service';

describe('parseMetricField', () => {
  it('reads a plain counter name', () => {
    expect(parseMetricField('runner_blocks')).toEqual({ name: 'runner_blocks', labels: {} });
  });

  it('reads the poster’s labelled fields', () => {
    expect(parseMetricField('poster_refusals_total{reason="oracle-stale"}')).toEqual({
      name: 'poster_refusals_total',
      labels: { reason: 'oracle-stale' },
    });
    expect(parseMetricField('x{a="1",b="two"}')?.labels).toEqual({ a: '1', b: 'two' });
  });

  it.each(['9lives', 'a-b', 'x{reason=oracle}', 'x{"a"="b"}', ''])('skips %p', (field) => {
    expect(parseMetricField(field)).toBeUndefined();
  });
});

describe('admin token check', () => {
  const token = 'operator-token-0123456789abcdef';
  const check = adminTokenCheck(token);

  it('accepts the token as Bearer or as a Basic password', () => {
    expect(check(`Bearer ${token}`)).toBe(true);
    expect(check(`bearer ${token}`)).toBe(true);
    expect(check(`Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`)).toBe(true);
  });

  it.each([
    ['nothing', undefined],
    ['another token', 'Bearer operator-token-0123456789abcdeX'],
    ['a prefix of it', `Bearer ${token.slice(0, -1)}`],
    ['the token as a Basic user name', `Basic ${Buffer.from(`${token}:`).toString('base64')}`],
    ['another scheme', `Token ${token}`],
  ])('refuses %s', (_what, header) => {
    expect(check(header)).toBe(false);
  });

  it('refuses a token shorter than 16 characters at start, naming the variable', () => {
    expect(() => loadOpsConfig({ API_ADMIN_TOKEN: 'short' }, adminTokenCheck)).toThrow(/API_ADMIN_TOKEN/);
    expect(loadOpsConfig({}, adminTokenCheck).adminCheck).toBeUndefined();
  });
});
