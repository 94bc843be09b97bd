import { Type, type Static } from '@sinclair/typebox';

/** Shapes every capability's API shares. */

/** A union of string literals from a list the code also uses at run time. */
export const literals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v))));

export const KeyValueMap = Type.Record(Type.String(), Type.String(), { description: 'key → value' });
export type KeyValueMap = Static<typeof KeyValueMap>;

export const ErrorBody = Type.Object(
  { error_code: Type.String(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
  { $id: 'Error', description: 'Every error response' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const ArtifactListQuery = Type.Object({ path: Type.Optional(Type.String()) });
export type ArtifactListQuery = Static<typeof ArtifactListQuery>;
export const ArtifactListing = Type.Object({
  root_uri: Type.String(),
  files: Type.Array(Type.Object({ path: Type.String(), is_dir: Type.Boolean(), size: Type.Optional(Type.Integer()) })),
});
export type ArtifactListing = Static<typeof ArtifactListing>;
