/**
 * `-node<major>`, the end of every result file's name: V8's tiers follow the
 * Node major (Lambda runs nodejs22.x; this machine's default is 20), so
 * results of two majors do not compare (docs/adr/0012).
 */
export function nodeMajorSuffix(): string {
  return `-node${process.versions.node.split('.')[0]}`;
}
