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

/** The role of a person or a token, chosen among every role (the API refuses one wider than
 * the chooser's own). */
export function RoleField({ value, onChange }: { value: Role; onChange: (role: Role) => void }) {
  return (
    <label>
      Role
      <select aria-label="Role" value={value} onChange={(e) => onChange(e.target.value as Role)}>
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {roleLabel(role)}
          </option>
        ))}
      </select>
    </label>
  );
}
