/** A key and a value: tags, params, and every other string map the API carries as `{key: value}`. */
export interface Tag {
  readonly key: string;
  readonly value: string;
}

export const tagsToMap = (tags: readonly Tag[] | undefined): Record<string, string> => Object.fromEntries((tags ?? []).map((t) => [t.key, t.value]));
export const mapToTags = (m: unknown): Tag[] => Object.entries((m ?? {}) as Record<string, string>).map(([key, value]) => ({ key, value }));
