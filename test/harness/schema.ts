/**
 * The engine's real API (Dagger v0.21.8) and a parser that turns one SDK query into the chain of
 * calls it makes, typed by that schema. The SDK only ever sends single-path queries
 * (`{ a(x:1) { b { c } } }`), so a query is a list of calls ending in one leaf.
 */
import { readFileSync } from "node:fs";
import {
  buildSchema,
  getNamedType,
  isListType,
  isNonNullType,
  parse,
  validate,
  Kind,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

const SCHEMA_PATH = new URL("../fixtures/dagger/schema-v0.21.8.graphqls", import.meta.url);

let cached: GraphQLSchema | undefined;
export function daggerSchema(): GraphQLSchema {
  cached ??= buildSchema(readFileSync(SCHEMA_PATH, "utf8"));
  return cached;
}

export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

export interface Call {
  field: string;
  args: Record<string, Value>;
  /** Type the field is selected on (after an inline fragment, the fragment's type). */
  parentType: string;
  /** Named return type, e.g. "Container", "String", "ID". */
  returnType: string;
  returnsList: boolean;
  /** For ID arguments: the object type the schema expects (`@expectedType`). */
  expectedIdTypes: Record<string, string>;
}

/** Errors in the query against the real schema; empty when the engine would accept it. */
export function validateQuery(text: string): string[] {
  const doc = parse(text);
  return validate(daggerSchema(), doc).map((e) => e.message);
}

export function toValue(node: ValueNode): Value {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.BOOLEAN:
      return node.value;
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(toValue);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, toValue(f.value)]));
    case Kind.VARIABLE:
      throw new Error("the SDK never sends variables; got $" + node.name.value);
  }
}

function expectedTypeOf(field: GraphQLField<unknown, unknown>, argName: string): string | undefined {
  const arg = field.args.find((a) => a.name === argName);
  const directive = arg?.astNode?.directives?.find((d) => d.name.value === "expectedType");
  const name = directive?.arguments?.find((a) => a.name.value === "name");
  return name && name.value.kind === Kind.STRING ? name.value.value : undefined;
}

function returnsList(type: GraphQLType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** Walks a single-path query into its calls; the last call is the leaf. */
export function parseChain(text: string): Call[] {
  const schema = daggerSchema();
  const doc = parse(text);
  const op = doc.definitions[0];
  if (!op || op.kind !== Kind.OPERATION_DEFINITION) throw new Error("not an operation: " + text);
  const calls: Call[] = [];
  let parent: GraphQLNamedType = schema.getQueryType() as GraphQLObjectType;
  let set: SelectionSetNode | undefined = op.selectionSet;
  while (set) {
    if (set.selections.length !== 1) throw new Error("the SDK sends one selection per level: " + text);
    let sel = set.selections[0]!;
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      parent = schema.getType(sel.typeCondition!.name.value)!;
      if (sel.selectionSet.selections.length !== 1) throw new Error("one selection per fragment: " + text);
      sel = sel.selectionSet.selections[0]!;
    }
    if (sel.kind !== Kind.FIELD) throw new Error("unexpected selection: " + text);
    const fieldNode: FieldNode = sel;
    const fields: Record<string, GraphQLField<unknown, unknown>> = "getFields" in parent ? (parent as GraphQLObjectType).getFields() : {};
    const def: GraphQLField<unknown, unknown> | undefined = fields[fieldNode.name.value];
    if (!def) throw new Error(`no field ${fieldNode.name.value} on ${parent.name}`);
    const args: Record<string, Value> = {};
    const expectedIdTypes: Record<string, string> = {};
    for (const a of fieldNode.arguments ?? []) {
      args[a.name.value] = toValue(a.value);
      const t = expectedTypeOf(def, a.name.value);
      if (t) expectedIdTypes[a.name.value] = t;
    }
    const named: GraphQLNamedType = getNamedType(def.type);
    calls.push({
      field: def.name,
      args,
      parentType: parent.name,
      returnType: named.name,
      returnsList: returnsList(def.type),
      expectedIdTypes,
    });
    parent = named;
    set = fieldNode.selectionSet;
  }
  return calls;
}
