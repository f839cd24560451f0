// Violation types and quarantine reasons in the words a person reads.
export const VIOLATION: Record<string, string> = {
  unplanned_event: "Event not in the plan",
  additional_property: "Property not in the plan",
  required_missing: "Required property missing",
  datatype_mismatch: "Wrong type",
  enum_mismatch: "Value not allowed",
  pattern_mismatch: "Value does not match the pattern",
  value_mismatch: "Value out of bounds",
};

export const REASON: Record<string, string> = {
  violations: "Broke its schema",
  unplanned_event: "Not in the plan",
};

export function words(table: Record<string, string>, code: string): string {
  return table[code] ?? code.replaceAll("_", " ");
}
