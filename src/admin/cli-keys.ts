// `keys …` commands: requests to the admin API's /admin/keys: list the signing and cookie keys, and start a rotation.
import type { CommandFamily } from './cli-kit.js';

export const keyCommands: CommandFamily = {
  name: 'keys',
  title: 'Signing and cookie keys',
  flags: {},
  commands: {
    list: {
      description: 'Lists the signing and cookie keys (kid, alg, use, state, dates), newest first; never private material.',
      prepare: () => (api) => api({ method: 'GET', path: '/keys' }),
    },
    rotate: {
      description: 'Starts a rotation: new keys, published at once, signing after JWKS_CACHE_SECONDS.',
      // Through a running server its key ring rotates and every instance hears of it; with none
      // running, the same rotation runs in this process and servers on PostgreSQL are told.
      prepare: () => (api) => api({ method: 'POST', path: '/keys/rotate' }),
    },
  },
};
