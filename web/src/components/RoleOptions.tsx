import { ROLES } from '../lib/project';

/** One `<option>` per project role, viewer to owner. */
export function RoleOptions() {
  return (
    <>
      {ROLES.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </>
  );
}
