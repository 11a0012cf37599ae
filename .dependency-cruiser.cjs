// The layering rules of ARCHITECTURE.md as a check that fails the build (npm run check:deps).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'src/domain imports nothing outside itself: no node:*, no packages, no other layer.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain' },
    },
    {
      name: 'application-uses-ports-only',
      comment: 'src/application drives the domain through ports; it never reaches adapters or bootstrap.',
      severity: 'error',
      from: { path: '^src/application' },
      to: { path: '^src/(adapters|bootstrap)' },
    },
    {
      name: 'adapters-do-not-know-bootstrap',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/bootstrap' },
    },
    {
      name: 'only-bootstrap-knows-inversify',
      severity: 'error',
      from: { pathNot: '^src/bootstrap' },
      to: { path: 'node_modules/(inversify|@inversifyjs)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
