/**
 * What every JMAP data type's description (types/*.ts) is made of: the valibot pieces of the
 * standard methods' arguments (RFC 8620 §5: /get, /changes, /set, /query, /queryChanges), the
 * RFC 8620 §1 value types, and the `DataType` shape — each property and who may write it, and the
 * argument schema of each method — with the property rules read from it (RFC 8620 §5.1 `properties`,
 * §5.3 server-set and immutable properties).
 */
import * as v from "valibot";
import { MethodError } from "./method-error.ts";

/** RFC 8620 §1.3: Int and UnsignedInt stay within ±2^53-1. */
export const Int = v.pipe(v.number(), v.safeInteger());
export const UnsignedInt = v.pipe(v.number(), v.safeInteger(), v.minValue(0, "must not be negative"));
/** RFC 8620 §1.4: a UTCDate ("Z", seconds, an optional fraction). */
export const UTC_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
export const UTCDate = v.pipe(
  v.string(),
  v.regex(UTC_DATE, "must be a UTCDate"),
  v.check((s) => !Number.isNaN(Date.parse(s)), "must be a UTCDate"),
);
export const Id = v.string();
export const optional = <S extends v.GenericSchema>(schema: S) => v.nullish(schema);
export const List = v.array(v.string());
/** A JSON object (valibot's object and record schemas also take arrays). */
const isPlain = (input: unknown) => typeof input === "object" && input !== null && !Array.isArray(input);
export const plain = <S extends v.GenericSchema>(schema: S) =>
  v.pipe(v.custom<unknown>(isPlain, "must be an object"), schema);
export const Objects = plain(v.record(v.string(), v.unknown()));

/** Every call names its account (RFC 8620 §5: a missing accountId is invalidArguments). */
export const accountArgs = { accountId: Id };

/** RFC 8620 §5.1 Foo/get. */
export const get = { ...accountArgs, ids: optional(List), properties: optional(List) };
/** RFC 8620 §5.2 Foo/changes: maxChanges is a positive integer. */
export const changes = {
  ...accountArgs,
  sinceState: v.string(),
  maxChanges: optional(v.pipe(UnsignedInt, v.minValue(1, "must be positive"))),
};
/** RFC 8620 §5.3 Foo/set; each object of create/update is checked by the method (a SetError). */
export const set = {
  ...accountArgs,
  ifInState: optional(v.string()),
  create: optional(Objects),
  update: optional(Objects),
  destroy: optional(List),
};

/** RFC 8620 §5.5 Comparator. */
export const Comparator = plain(v.looseObject({
  property: v.string(),
  isAscending: v.optional(v.boolean()),
  collation: v.optional(v.string()),
  // RFC 8621 §4.4.2: the keyword of the hasKeyword and *InThreadHaveKeyword sorts.
  keyword: v.optional(v.string()),
}));

/**
 * RFC 8620 §5.5 Filter: a FilterOperator (AND/OR/NOT over Filters) or a FilterCondition of the
 * type. Conditions keep unknown keys: the method answers unsupportedFilter for those.
 */
export function filterOf(condition: v.GenericSchema): v.GenericSchema {
  const filter: v.GenericSchema = v.lazy((input) =>
    typeof input === "object" && input !== null && "operator" in input
      ? v.strictObject({ operator: v.picklist(["AND", "OR", "NOT"]), conditions: v.array(filter) })
      : plain(condition)
  );
  return filter;
}

/** RFC 8620 §5.5 Foo/query. */
export const query = (condition: v.GenericSchema) => ({
  ...accountArgs,
  filter: optional(filterOf(condition)),
  sort: optional(v.array(Comparator)),
  position: optional(Int),
  anchor: optional(Id),
  anchorOffset: optional(Int),
  limit: optional(UnsignedInt),
  calculateTotal: optional(v.boolean()),
});
/** RFC 8620 §5.6 Foo/queryChanges. */
export const queryChanges = (condition: v.GenericSchema) => ({
  ...accountArgs,
  filter: optional(filterOf(condition)),
  sort: optional(v.array(Comparator)),
  sinceQueryState: v.string(),
  maxChanges: optional(UnsignedInt),
  upToId: optional(Id),
  calculateTotal: optional(v.boolean()),
});

/** A type with no FilterCondition of its own: unknown conditions are unsupportedFilter. */
export const AnyCondition = v.looseObject({});

/**
 * Who may write a property (RFC 8620 §5.3): "server" sets it alone (a create or update naming it
 * is invalidProperties), "create" is given at creation and immutable after, "update" may change.
 */
export type Access = "server" | "create" | "update";

/** One JMAP data type: its properties and the argument schema of each of its methods. */
export interface DataType {
  properties: Readonly<Record<string, Access>>;
  /** What Foo/get returns when `properties` is null, when that is not every property. */
  defaultProperties?: readonly string[];
  methods: Readonly<Record<string, v.GenericSchema>>;
}

export const propertyNames = (type: DataType): string[] => Object.keys(type.properties);

/** The properties a client may not give: on a create, the server's; on an update, all but "update" ones. */
export function notSettable(type: DataType, creating: boolean): string[] {
  return Object.entries(type.properties).filter(([, access]) =>
    access === "server" || (!creating && access === "create")
  )
    .map(([name]) => name);
}

/**
 * Foo/get `properties` (RFC 8620 §5.1): null is the type's default ones; a name the type does
 * not have is invalidArguments.
 */
export function requestedProperties(type: DataType, value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  const list = value as string[];
  const unknown = list.find((p) => !(p in type.properties));
  if (unknown) throw new MethodError("invalidArguments", `Unknown property ${unknown}`);
  return list;
}

/** An object with only the properties asked for, and always its id (RFC 8620 §5.1). */
export function pick(object: Record<string, unknown>, properties: readonly string[] | null): Record<string, unknown> {
  return properties
    ? Object.fromEntries(Object.entries(object).filter(([k]) => k === "id" || properties.includes(k)))
    : object;
}
