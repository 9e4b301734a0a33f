/** `sluice lineage <table>`: where a table's rows came from, back to the source runs that landed them. */
// @ts-nocheck

import { type LineageNode, lineageOfTable } from '../../engine/stages/lineage.js';
import type { CliContext } from '../context.js';
import { printResult } from '../output.js';

function describe(node: LineageNode): string {
  const last = node.records.at(-1);
  if (!last) return `${node.table} (raw table, landed by source runs)`;
  if (last.path) return `${node.table} (model ${last.path}, built by the stages of run ${last.runId})`;
  const files = node.records.reduce((n, r) => n + (r.files?.length ?? 0), 0);
  return `${node.table} (${last.stage}: ${node.records.length} ${node.records.length === 1 ? 'merge' : 'merges'} of ${files} raw ${files === 1 ? 'file' : 'files'}, last by run ${last.runId})`;
}

export function renderLineage(root: LineageNode): string {
  const lines: string[] = [describe(root)];
  const walk = (node: LineageNode, indent: string): void => {
    node.inputs.forEach((input, i) => {
      const end = i === node.inputs.length - 1;
      lines.push(`${indent}${end ? '└─ ' : '├─ '}${describe(input)}`);
      walk(input, `${indent}${end ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  lines.push('', `source runs: ${root.sourceRuns.length > 0 ? root.sourceRuns.join(', ') : 'none'}`);
  return lines.join('\n');
}

export async function showLineage(ctx: CliContext, table: string, json: boolean): Promise<void> {
  const root = await lineageOfTable(ctx, table);
  printResult(json, root, renderLineage);
}
