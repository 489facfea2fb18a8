// Source files the release archives carry beside the binary, byte for byte as committed, with
// their modes: the recipes for running aenv on many machines, which take their folders as
// arguments so that nobody edits them (their guide, docs/distributed.md, ships with the other
// docs/*.md; README.md and LICENSE are listed in release.mjs itself).
export const SHIPPED_SOURCES = [
  { path: 'examples/parallel.sh', mode: 0o755 },
  { path: 'examples/slurm/decrypt-array.sbatch', mode: 0o755 },
  { path: 'examples/slurm/report.sbatch', mode: 0o755 },
];
