#!/usr/bin/env node
// @ts-nocheck
/**
 * Checks every relative link in the repository's Markdown files: the target
 * file or folder exists and, for `file.md#anchor` or `#anchor`, the anchor is
 * a heading of that file (GitHub's slugs). External links (http, mailto) are
 * not fetched. Exits 1 listing each broken link as `file:line: link (reason)`.
 *
 *   node scripts/check-links.mjs [root]
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SKIP_DIRS = new Set(['node_modules', '.git', 'cdk.out', '.sluice', 'coverage', 'tmp']);

function markdownFiles(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) found.push(...markdownFiles(join(dir, entry.name)));
    } else if (entry.name.endsWith('.md')) {
      found.push(join(dir, entry.name));
    }
  }
  return found;
}

/** Lines outside fenced code blocks, with inline code spans blanked, as [lineNumber, text]. */
function proseLines(text) {
  const lines = [];
  let fence;
  text.split('\n').forEach((line, index) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined)
      lines.push([index + 1, line.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length))]);
  });
  return lines;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
function anchorsOf(text) {
  const anchors = new Set();
  const seen = new Map();
  let fence;
  for (const line of text.split('\n')) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line);
    if (opener) {
      if (fence === undefined) fence = opener[1][0];
      else if (opener[1][0] === fence) fence = undefined;
      continue;
    }
    const heading = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line) : null;
    if (!heading) continue;
    const base = heading[1]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Link targets on one line: inline `[text](target)` and reference definitions `[id]: target`. */
function linkTargets(line) {
  const targets = [];
  for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]);
  const definition = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(line);
  if (definition) targets.push(definition[1]);
  return targets;
}

export function checkLinks(root) {
  const problems = [];
  const anchorCache = new Map();
  const anchors = (file) => {
    if (!anchorCache.has(file)) anchorCache.set(file, anchorsOf(readFileSync(file, 'utf8')));
    return anchorCache.get(file);
  };
  for (const file of markdownFiles(root)) {
    for (const [lineNumber, line] of proseLines(readFileSync(file, 'utf8'))) {
      for (const target of linkTargets(line)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:, …
        const [pathPart, anchor] = target.split('#', 2);
        const path = decodeURIComponent(pathPart);
        const resolved = path === '' ? file : resolve(dirname(file), path);
        const where = `${relative(root, file)}:${lineNumber}: ${target}`;
        if (!existsSync(resolved)) {
          problems.push(`${where} (no such file)`);
          continue;
        }
        if (anchor === undefined || anchor === '') continue;
        if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
          problems.push(`${where} (an anchor into something that is not a Markdown file)`);
        } else if (!anchors(resolved).has(anchor.toLowerCase())) {
          problems.push(`${where} (no heading "#${anchor}" in ${relative(root, resolved)})`);
        }
      }
    }
  }
  return problems;
}

const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
const problems = checkLinks(root);
if (problems.length > 0) {
  process.stderr.write(`${problems.length} broken link(s):\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`all relative links in ${relative(process.cwd(), root) || '.'} resolve\n`);
