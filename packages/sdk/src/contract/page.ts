/** One page of a list, and the token of the next page when there is one. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken?: string;
}
