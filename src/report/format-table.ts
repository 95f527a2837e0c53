/** Left-aligned columns, cells cut at 48 characters. */
export function formatTable(headers: string[], rows: string[][]): string {
  const cut = (cell: string) => (cell.length > 48 ? `${cell.slice(0, 47)}…` : cell);
  const all = [headers, ...rows].map((row) => row.map(cut));
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
