import { InvalidArgument, notFound, quote } from '@conveyor/platform/errors';
import { normaliseSku, type Product } from '../domain/product.ts';
import type { Catalog } from './catalog.ts';

export function getProduct(deps: { catalog: Catalog }) {
  return async (rawSku: string): Promise<Product> => {
    if (!rawSku.trim()) throw new InvalidArgument('sku', 'is required');
    const sku = normaliseSku(rawSku);
    if (!sku) throw new InvalidArgument('sku', `${quote(rawSku)} is not a SKU (letters, digits and dashes)`);
    const product = await deps.catalog.find(sku);
    if (!product) throw notFound(`product ${sku}`);
    return product;
  };
}
