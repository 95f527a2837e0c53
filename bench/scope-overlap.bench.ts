// Times the write-scope overlap check: 20 subtasks against a 50,000-file repository list.
import { findScopeOverlaps, indexFiles } from '../src/plan/scope-overlap.js';
import { median, ms } from './stats.js';

const files: string[] = [];
for (let pkg = 0; pkg < 50; pkg += 1) {
  for (let dir = 0; dir < 20; dir += 1) {
    for (let file = 0; file < 50; file += 1) {
      const ext = file % 5 === 0 ? 'test.ts' : file % 7 === 0 ? 'md' : 'ts';
      files.push(`packages/pkg${pkg}/src/dir${dir}/file${file}.${ext}`);
    }
  }
}

// Every subtask mixes the entry kinds planners produce: a directory, a glob, an exact file, a new file.
const subtasks = Array.from({ length: 20 }, (_, n) => ({
  id: `s${n}`,
  writeScope: [
    `packages/pkg${n}/src/dir0/`,
    `packages/pkg${n}/src/**/*.test.ts`,
    `packages/pkg${n + 20}/src/dir3/file1.ts`,
    `packages/pkg${n}/src/new-module/index.ts`,
  ],
}));
// One pair that overlaps on purpose, so the report path is timed too.
subtasks[19]!.writeScope.push('packages/pkg0/src/dir0/file2.ts');

const indexTimes: number[] = [];
const checkTimes: number[] = [];
let overlaps = 0;
for (let run = 0; run < 15; run += 1) {
  const t0 = performance.now();
  const index = indexFiles(files);
  const t1 = performance.now();
  overlaps = findScopeOverlaps(subtasks, index).length;
  const t2 = performance.now();
  indexTimes.push(t1 - t0);
  checkTimes.push(t2 - t1);
}
console.log(
  `scope overlap: ${subtasks.length} subtasks x ${files.length} files, ${overlaps} overlapping pair(s), 15 runs`,
);
console.log(`  index file list (once per plan): median ${ms(median(indexTimes))}`);
console.log(
  `  overlap check:                   median ${ms(median(checkTimes))}  (min ${ms(Math.min(...checkTimes))}, max ${ms(Math.max(...checkTimes))})`,
);
console.log(`  both:                            median ${ms(median(indexTimes.map((t, i) => t + checkTimes[i]!)))}`);
