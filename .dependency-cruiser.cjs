/**
 * Import rules for src/: no cycles, and arrows only downward through these layers (bottom first).
 * A folder missing from the list is held to the cycle rule only.
 */
const LAYERS = [
  ['types\\.ts', 'errors\\.ts', 'version\\.ts', 'paths\\.ts', 'sharp\\.ts'],
  ['native', 'gradient', 'storage'],
  ['backends'],
  ['pipeline'],
  ['config'],
  ['plan'],
  ['queue'],
  ['serve'],
  ['cli'],
];

const pathOf = (names) => `^src/(${names.join('|')})($|/)`;

const upwardRules = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `no-upward-import-from-${layer[0].replace('\\.ts', '')}`,
  comment: `${layer.join(', ').replaceAll('\\', '')} may import only from the layers below it`,
  severity: 'error',
  from: { path: pathOf(layer) },
  to: { path: pathOf(LAYERS.slice(index + 1).flat()) },
}));

// Files on the ground floor may use each other; folders that share a layer may not.
const peerRules = LAYERS.slice(1)
  .filter((layer) => layer.length > 1)
  .map((layer) => ({
    name: `no-sideways-import-in-${layer.join('-').replaceAll('\\.ts', '')}`,
    comment: `${layer.join(', ').replaceAll('\\', '')} are peers and do not import each other`,
    severity: 'error',
    from: { path: pathOf(layer) },
    to: { path: pathOf(layer), pathNot: '^src/$1($|/)' },
  }));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move the shared part one layer down (src/types.ts is the floor).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upwardRules,
    ...peerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
