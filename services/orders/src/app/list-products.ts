import { InvalidArgument } from '@conveyor/platform/errors';
import { normaliseSku, type Product } from '../domain/product.ts';
import type { Catalog } from './catalog.ts';

/** Keyset pagination: the page token is the last SKU of the previous page. */
export function listProducts(deps: { catalog: Catalog }) {
  return async (query: {
    pageSize: number;
    pageToken: string;
  }): Promise<{ items: Product[]; nextPageToken: string }> => {
    if (!Number.isInteger(query.pageSize) || query.pageSize < 0 || query.pageSize > 500) {
      throw new InvalidArgument('page_size', 'must be between 0 and 500');
    }
    let afterSku: string | undefined;
    if (query.pageToken) {
      afterSku = normaliseSku(Buffer.from(query.pageToken, 'base64url').toString('utf8'));
      if (!afterSku) throw new InvalidArgument('page_token', 'is not a token from a previous response');
    }
    const limit = query.pageSize || 100;
    const rows = await deps.catalog.list({ limit: limit + 1, afterSku });
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextPageToken: rows.length > limit && last ? Buffer.from(last.sku).toString('base64url') : '',
    };
  };
}
