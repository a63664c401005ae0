/**
 * Whether a consumer built against `before` can read data valid against
 * `after`, for the JSON Schemas this catalog generates (objects, arrays,
 * primitives). A version may add optional properties; removing a property,
 * changing a type, or making a property required needs a new version.
 */
export function compatibilityProblems(before: JsonSchema, after: JsonSchema, path = '(data)'): string[] {
  const problems: string[] = [];
  if (before.type !== after.type) problems.push(`${path}: type changed from ${before.type} to ${after.type}`);
  if (before.format !== after.format)
    problems.push(`${path}: format changed from ${before.format} to ${after.format}`);
  if (JSON.stringify(before.enum) !== JSON.stringify(after.enum))
    problems.push(`${path}: allowed values changed`);
  const beforeProps = before.properties ?? {};
  const afterProps = after.properties ?? {};
  for (const [name, schema] of Object.entries(beforeProps)) {
    const next = afterProps[name];
    if (!next) problems.push(`${path}.${name}: removed`);
    else problems.push(...compatibilityProblems(schema, next, `${path}.${name}`));
  }
  const wasRequired = new Set(before.required ?? []);
  for (const name of after.required ?? []) {
    if (!wasRequired.has(name)) problems.push(`${path}.${name}: became required`);
  }
  if (before.items && after.items)
    problems.push(...compatibilityProblems(before.items, after.items, `${path}[]`));
  return problems;
}

export interface JsonSchema {
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
}
