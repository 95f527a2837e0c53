import { join } from 'node:path';
import { LocalForge } from '../../src/adapters/forge/local-forge.js';
import { createRepository } from '../../src/demo/sample-repo.js';
import { OWNER, REPO, gitHubForgeSetup } from '../support/fake-github/forge-setup.js';
import { tempDir } from '../support/temp-dir.js';
import { forgeContract } from './forge.contract.js';

forgeContract('local', async () => {
  const root = await tempDir('fanout-forge-');
  const repoDir = join(root, 'repo');
  await createRepository(repoDir, { 'README.md': '# hello\n' });
  const forge = new LocalForge(repoDir, join(root, 'state'));
  return {
    forge,
    repoDir,
    base: 'main',
    async reviewAsWriter(number, state) {
      await forge.recordReview(number, { by: 'local-user', state });
      return 'local-user';
    },
    // Local mode has one user, who owns the repository.
    approveAsReader: null,
    async commentBody(issue, id) {
      return (await forge.comments(issue)).find((comment) => comment.id === id)?.body ?? '';
    },
    async close() {},
  };
});

forgeContract('GitHub, on the fake', async () => {
  const setup = await gitHubForgeSetup();
  const { fake } = setup;
  return {
    forge: setup.forge,
    repoDir: setup.cloneDir,
    base: 'main',
    async reviewAsWriter(number, state) {
      fake.setRole(OWNER, REPO, 'writer', 'write');
      await fake.addReview(OWNER, REPO, number, { user: 'writer', state: state === 'approved' ? 'APPROVED' : 'CHANGES_REQUESTED' });
      return 'writer';
    },
    async approveAsReader(number) {
      fake.setRole(OWNER, REPO, 'reader', 'read');
      await fake.addReview(OWNER, REPO, number, { user: 'reader', state: 'APPROVED' });
      return 'reader';
    },
    async commentBody(_issue, id) {
      return fake.repo(OWNER, REPO).comments.find((comment) => comment.id === id)?.body ?? '';
    },
    close: () => setup.close(),
  };
});
