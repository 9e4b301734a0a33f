import { describe, expect, it } from 'vitest';
import { generated } from '../../../../../connectors/s3-files/formats/generated.js';

describe('generated', () => {
  it('makes a builder once per key, and again only after 64 newer keys pushed it out', () => {
    // Prepare
    let made = 0;
    const make = () => {
      made++;
      return () => made;
    };

    // Act
    const first = generated('test:a', make);
    const again = generated('test:a', make);
    const other = generated('test:b', make);
    for (let k = 0; k < 64; k++) generated(`test:filler-${k}`, make);
    const rebuilt = generated('test:a', make);

    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(rebuilt).not.toBe(first);
    expect(made).toBe(2 + 64 + 1);
  });
});
