// The roles in the words the settings screens use.
import type { components } from "../../api/schema";

type Role = components["schemas"]["Role"];

export const ROLES: Role[] = ["owner", "admin", "developer", "marketer", "analyst", "privacy_admin"];

const LABELS: Record<Role, string> = {
  owner: "Owner (everything, people included)",
  admin: "Admin (all configuration)",
  developer: "Developer (sources, destinations, tracking plans)",
  marketer: "Marketer (audiences, computed traits, journeys)",
  analyst: "Analyst (reads only)",
  privacy_admin: "Privacy admin (deletion, consent, retention)",
};

export function roleLabel(role: string): string {
  return LABELS[role as Role] ?? role;
}
