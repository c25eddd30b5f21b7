// The labels requests are logged and counted under come from declared paths, patterns and prefixes only.
import Router from '@koa/router';
import { describe, expect, it } from 'vitest';
import { requestLabels } from '../../src/http/route-labels.js';

describe('requestLabels', () => {
  const router = new Router({ prefix: '/admin', sensitive: true, strict: true });
  router.use(async (_ctx, next) => next());
  router.get('/clients/new', () => {});
  router.get('/clients/:id', () => {});
  router.post('/clients/:id/secret', () => {});
  const labelOf = requestLabels({ known: ['/token', '/gateway/check'], prefixes: ['/gateway/check'], routers: [router] });

  it('labels a known path as itself and a router path by the first pattern that matches it, whatever its method', () => {
    expect(labelOf('/token')).toBe('/token');
    expect(labelOf('/admin/clients/new')).toBe('/admin/clients/new');
    expect(labelOf('/admin/clients/c-0123456789abcdef0123')).toBe('/admin/clients/:id');
    expect(labelOf('/admin/clients/c-1/secret')).toBe('/admin/clients/:id/secret');
  });

  it('gives every other path under a prefix one fixed label, in any spelling of the prefix', () => {
    expect(labelOf('/admin')).toBe('/admin/*');
    expect(labelOf('/admin/no/such/route')).toBe('/admin/*');
    expect(labelOf('/ADMIN/clients/c-1')).toBe('/admin/*');
    expect(labelOf('/admin/clients/c-1/')).toBe('/admin/*');
    expect(labelOf('/gateway/check/api/orders/42')).toBe('/gateway/check/*');
  });

  it('leaves a path no table declares unlabelled, including one that only starts like a prefix', () => {
    expect(labelOf('/administrator')).toBeUndefined();
    expect(labelOf('/gateway/checks')).toBeUndefined();
    expect(labelOf('/nope')).toBeUndefined();
  });
});
