import { z } from 'zod';

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i;

/**
 * A size in `.github/fanout.yml`: a number of bytes, or text with a unit (`200M`, `4GiB`, `1.5 GB`);
 * every unit is a power of 1024, as for `ulimit` and Docker. Parsed to whole bytes.
 */
export function byteSize(range: { min: number; max: number }) {
  return z.union([z.number(), z.string().trim()]).transform((value, context) => {
    const bytes = typeof value === 'number' ? value : parseByteSize(value);
    if (bytes === null) {
      context.addIssue({ code: 'custom', message: `"${value}" is not a size (write e.g. 512M or 4GiB)` });
      return z.NEVER;
    }
    if (!(bytes >= range.min && bytes <= range.max)) {
      context.addIssue({
        code: 'custom',
        message: `must be between ${describe(range.min)} and ${describe(range.max)}`,
      });
      return z.NEVER;
    }
    return Math.floor(bytes);
  });
}

/** Bytes in a size with a unit, or null when the text is not one. */
export function parseByteSize(text: string): number | null {
  const match = SIZE.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? 1);
}

function describe(bytes: number): string {
  const [unit, size] = Object.entries(UNITS)
    .reverse()
    .find(([, size]) => bytes >= size && bytes % size === 0) ?? ['', 1];
  return `${bytes / size}${unit.toUpperCase()}`;
}
