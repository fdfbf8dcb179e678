/**
 * How an unexpected value is named in an error message ("got Promise", "got null", "got number"). Error
 * messages are built from whatever a user passed, so this never throws, whatever the value.
 */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return typeof value;
  try {
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name ? name : 'an object';
  } catch {
    return 'an object';
  }
}
