// Tollgate's import rules (docs/architecture.md): layers import downward only, nothing imports in a
// circle, the product never imports its tests or benchmarks, and oidc-provider's internals are
// reached through one door. `npm run lint` runs it after Biome.

/**
 * Lowest first: a module may import its own layer and those below it, never one above. A module
 * named in a lower layer belongs there, even inside a folder of a higher one.
 */
const LAYERS = [
  // The endpoint registry is plain data every layer reads, so it is a leaf though it lives in src/http/.
  { name: 'leaf', paths: ['^src/crypto/', '^src/config/', '^src/project-root[.]ts$', '^src/tokens/policy[.]ts$', '^src/http/endpoints[.]ts$', '^src/domain-errors[.]ts$'] },
  { name: 'platform', paths: ['^src/(db|http|metrics|rate-limit|cluster)/'] },
  { name: 'domain', paths: ['^src/(clients|users|resource-servers|keys|audit|cache)/', '^src/tokens/store/', '^src/tokens/cleanup[.]ts$', '^src/services[.]ts$'] },
  { name: 'oidc', paths: ['^src/oidc/'] },
  { name: 'edge', paths: ['^src/(admin|console|gateway|interactions)/', '^src/tokens/(caller|steps|[a-z-]+-handler)[.]ts$'] },
  { name: 'app', paths: ['^src/(app|server|main)[.]ts$'] },
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `no-upward-from-${layer.name}`,
  comment: `${layer.name} imports only ${LAYERS.slice(0, i + 1)
    .map((below) => below.name)
    .join(', ')}`,
  severity: 'error',
  from: { path: layer.paths },
  to: { path: LAYERS.slice(i + 1).flatMap((above) => above.paths), pathNot: LAYERS.slice(0, i + 1).flatMap((below) => below.paths) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'crypto-is-a-leaf',
      comment: 'src/crypto/ imports nothing of Tollgate outside itself',
      severity: 'error',
      from: { path: '^src/crypto/' },
      to: { path: '^(src|views|test|bench)/', pathNot: '^src/crypto/' },
    },
    {
      name: 'policy-is-a-leaf',
      comment: 'the token policy is plain functions over plain data: it imports only config and crypto',
      severity: 'error',
      from: { path: '^src/tokens/policy[.]ts$' },
      to: { path: '^(src|views)/', pathNot: '^src/(config|crypto)/' },
    },
    {
      name: 'every-layer-is-known',
      comment: 'a new folder or top-level file of src/ is placed in a layer above (and in docs/architecture.md)',
      severity: 'error',
      from: { path: '^src/', pathNot: [...LAYERS.flatMap((layer) => layer.paths), '^src/db/generated/'] },
      to: {},
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-tests-in-the-product',
      severity: 'error',
      from: { path: '^(src|views)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'prisma-client-behind-db',
      comment: 'only src/db/ imports the generated Prisma client; the rest imports src/db/database.ts',
      severity: 'error',
      from: { path: '^(src|views)/', pathNot: '^src/db/' },
      to: { path: '^src/db/generated/' },
    },
    {
      name: 'provider-internals-behind-one-door',
      comment: "only src/oidc/internals/ reaches into oidc-provider's lib/",
      severity: 'error',
      from: { pathNot: '^src/oidc/internals/' },
      // The package's own entry point is lib/index.js; every other file of lib/ is internal.
      to: { path: 'node_modules/oidc-provider/lib/', pathNot: 'node_modules/oidc-provider/lib/index[.]js$' },
    },
  ],
  options: {
    // Followed as far as the door, not inside: it is generated code.
    doNotFollow: { path: ['node_modules', '^src/db/generated/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
