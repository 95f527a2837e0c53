import { FileCoordStore } from '../../src/adapters/coord/file-store.js';
import { MemoryCoordStore } from '../../src/adapters/coord/memory-store.js';
import { redactingStore } from '../../src/adapters/coord/redacting-store.js';
import { SecretRedactor } from '../../src/domain/redactor.js';
import { tempDir } from '../support/temp-dir.js';
import { coordStoreContract } from './coord-store.contract.js';

coordStoreContract('memory (test double)', async () => new MemoryCoordStore());
coordStoreContract('files', async () => new FileCoordStore(await tempDir('fanout-store-')));
coordStoreContract('redacting, over files', async () =>
  redactingStore(new FileCoordStore(await tempDir('fanout-store-')), new SecretRedactor(['contract-secret-value'])),
);
