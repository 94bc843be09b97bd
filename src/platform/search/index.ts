/** The search language's core: lexer, parser, AST and SQL building blocks. Each capability declares its grammar. */
export type { Comparison, Entity, FilterNode, Logical, Operator, OrderTerm } from './ast.js';
export { show, showOrder } from './ast.js';
export { MAX_FILTER_LENGTH, SearchSyntaxError } from './lexer.js';
export { MAX_FILTER_COMPARISONS, MAX_FILTER_DEPTH, MAX_IN_LIST, MAX_ORDER_TERMS, parseFilter, parseOrderBy } from './parser.js';
export { NUMERIC_OPS, STRING_OPS, NULL_OPS, numberField, stringField, type FieldRule, type Grammar } from './grammar.js';
export { compileFilter, condition, type AttributeSql, type FieldSql, type MemberStyle } from './compile.js';
