#!/usr/bin/env node
// @ts-nocheck
/**
 * Summarises Stryker's JSON report (reports/mutation/mutation.json) as
 * Markdown: the mutation score per file, and every mutant that survived or
 * had no covering test, with its line and replacement, to be killed or
 * explained. Usage: node scripts/mutation-summary.mjs [report.json] > summary.md
 */
import { readFileSync } from 'node:fs';

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(path, 'utf8'));

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

const rows = [];
const undetected = [];
let detectedTotal = 0;
let validTotal = 0;
for (const [file, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const count = (status) => mutants.filter((m) => m.status === status).length;
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const valid = detected + mutants.filter((m) => UNDETECTED.has(m.status)).length;
  detectedTotal += detected;
  validTotal += valid;
  rows.push(
    `| ${file} | ${mutants.length} | ${count('Killed')} | ${count('Timeout')} | ${count('Survived')} | ${count('NoCoverage')} | ${count('CompileError')} | ${valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(1)}%`} |`,
  );
  for (const m of mutants.filter((m) => UNDETECTED.has(m.status))) {
    const replacement = String(m.replacement ?? '')
      .replace(/\s+/g, ' ')
      .replace(/\|/g, '\\|')
      .slice(0, 80);
    undetected.push(
      `| ${file}:${m.location.start.line} | ${m.mutatorName} | \`${replacement}\` | ${m.status} |`,
    );
  }
}

const lines = [
  '| file | mutants | killed | timeout | survived | no coverage | compile error | score |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows,
  `| **all** | | | | | | | **${validTotal === 0 ? 'n/a' : `${((100 * detectedTotal) / validTotal).toFixed(1)}%`}** |`,
  '',
  'Score = (killed + timeout) / (killed + timeout + survived + no coverage); compile errors are not counted.',
  '',
  undetected.length === 0 ? 'No surviving mutants.' : '| where | mutator | replacement | status |',
  ...(undetected.length === 0 ? [] : ['| --- | --- | --- | --- |', ...undetected]),
];
process.stdout.write(`${lines.join('\n')}\n`);
