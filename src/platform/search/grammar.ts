import type { Entity, Operator } from './ast.js';

/** The value type and operators a field accepts. */
export interface FieldRule {
  readonly type: 'number' | 'string';
  readonly ops: readonly Operator[];
}

/** What a search language accepts: its entities, attributes and the operators of each field. */
export interface Grammar {
  /** Entity spellings (lower case) → entity. */
  readonly entities: Readonly<Record<string, Entity>>;
  /** Attribute spellings → canonical attribute name. Looked up as written, then in lower case. */
  readonly attributeAliases: Readonly<Record<string, string>>;
  /** Filterable attributes by canonical name. */
  readonly attributes: Readonly<Record<string, FieldRule>>;
  /** Canonical names of the attributes order_by accepts. */
  readonly orderableAttributes: readonly string[];
  /** Entities other than attributes that order_by accepts. */
  readonly orderableEntities: readonly Entity[];
  /** Rule of a non-attribute field, or undefined when the entity takes no such key. */
  rule(entity: Entity, key: string): FieldRule | undefined;
  /** Keys an entity accepts, when it is a fixed list (for messages). */
  keysOf?(entity: Entity): readonly string[] | undefined;
  /** Human list of the allowed entities, for messages. */
  readonly entityHint: string;
}

export const NUMERIC_OPS: readonly Operator[] = ['=', '!=', '>', '>=', '<', '<='];
export const STRING_OPS: readonly Operator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
export const NULL_OPS: readonly Operator[] = ['IS NULL', 'IS NOT NULL'];

export const numberField = (nullable = false): FieldRule => ({ type: 'number', ops: nullable ? [...NUMERIC_OPS, ...NULL_OPS] : NUMERIC_OPS });
export const stringField = (nullable = false): FieldRule => ({ type: 'string', ops: nullable ? [...STRING_OPS, ...NULL_OPS] : STRING_OPS });

