import { invalid } from '@rtc-sidecars/config';

/** One entry of `contacts` in `/.well-known/matrix/support` (Matrix spec, MSC1929). */
export interface SupportContact {
  /** `m.role.admin`, `m.role.security`, or a namespaced role such as `org.example.role.moderator`. */
  readonly role: string;
  readonly matrix_id?: string;
  readonly email_address?: string;
}

const USER_ID = /^@[^:\s]+:[^\s]+$/;
// Deliberately loose: the address is shown to people, not mailed to by this service.
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ROLE = /^(?:m\.role\.(?:admin|security)|[a-z0-9-]+(?:\.[a-z0-9_-]+){2,})$/;

/**
 * Validates the JSON of `WELL_KNOWN_SUPPORT_CONTACTS`: a non-empty array of objects with a
 * `role` and at least one of `matrix_id` (a user ID) or `email_address`, and nothing else.
 * Throws a config error that points at the first bad entry.
 */
export function parseSupportContacts(value: unknown): readonly SupportContact[] {
  if (!Array.isArray(value) || value.length === 0) {
    return invalid('must be a non-empty JSON array of {"role","matrix_id","email_address"}');
  }
  return Object.freeze(
    value.map((entry: unknown, i): SupportContact => {
      const where = `entry ${i + 1}`;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
        return invalid(`${where} must be a JSON object`);
      }
      const e = entry as Record<string, unknown>;
      const unknownKeys = Object.keys(e).filter(
        (k) => !['role', 'matrix_id', 'email_address'].includes(k),
      );
      if (unknownKeys.length > 0) invalid(`${where} has unknown keys: ${unknownKeys.join(', ')}`);
      const { role, matrix_id, email_address } = e;
      if (typeof role !== 'string' || !ROLE.test(role)) {
        invalid(`${where} needs a role such as "m.role.admin" or "m.role.security"`);
      }
      if (matrix_id === undefined && email_address === undefined) {
        invalid(`${where} needs a matrix_id or an email_address`);
      }
      if (matrix_id !== undefined && (typeof matrix_id !== 'string' || !USER_ID.test(matrix_id))) {
        invalid(`${where} has a matrix_id that is not a user ID like @admin:example.org`);
      }
      if (
        email_address !== undefined &&
        (typeof email_address !== 'string' || !EMAIL.test(email_address))
      ) {
        invalid(`${where} has an invalid email_address`);
      }
      return Object.freeze({ ...e }) as unknown as SupportContact;
    }),
  );
}
