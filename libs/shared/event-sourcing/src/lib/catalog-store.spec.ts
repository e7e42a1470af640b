import { describeCatalogStoreContract } from '../testing/catalog-store.contract';
import { InMemoryCatalogStore } from './catalog-store';

describeCatalogStoreContract('in-memory', () => ({ store: new InMemoryCatalogStore(), dispose: () => undefined }), { durable: false });
