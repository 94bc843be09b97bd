/** A search-grammar condition: `name` contains `text`, case-insensitively (quotes doubled, LIKE wildcards escaped). */
export function nameContains(text: string): string {
  const escaped = text.replace(/'/g, "''").replace(/[%_\\]/g, (c) => `\\${c}`);
  return `name ILIKE '%${escaped}%'`;
}
