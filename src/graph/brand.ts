/**
 * Marks the library's own objects so that one made by *another copy* of junjo-xstate can be
 * told apart from a wrong value. An app can load two copies at once — the CommonJS build
 * (`require`) beside the ESM build (`import`), or two installed versions — and then a Node of
 * one copy is not `instanceof` the other copy's Executable: a Graph refuses it as "not a Node",
 * which sends the reader looking for the wrong mistake. The brand is a registered symbol
 * (`Symbol.for`), the same in every copy; its value is this copy's own token.
 *
 * Where a model check refuses a value (`instanceof Executable`, `instanceof Graph`, a store
 * handle check), it asks `otherCopy(value)` and, if that says so, throws `twoCopiesError`.
 */

/** The registered key every copy uses. */
export const BRAND: unique symbol = Symbol.for('junjo-xstate.brand') as never;

/** This copy's token: a fresh object per loaded copy of the module. */
const THIS_COPY: object = Object.freeze({ copy: 'junjo-xstate' });

/** Marks a class's prototype (or one object) as this copy's. */
export function stamp(target: object): void {
  Object.defineProperty(target, BRAND, { value: THIS_COPY, enumerable: false });
}

/** True if `value` was made by another loaded copy of junjo-xstate. */
export function otherCopy(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    const token = (value as { [BRAND]?: unknown })[BRAND];
    return token !== undefined && token !== THIS_COPY;
  } catch {
    return false;
  }
}

/** The error for a value of another copy, `what` naming what was expected (e.g. "Graph source"). */
export function twoCopiesError(what: string, value: unknown): TypeError {
  let name = 'it';
  try {
    const n = (value as { name?: unknown }).name;
    if (typeof n === 'string' && n) name = `'${n}'`;
  } catch {
    // keep 'it'
  }
  return new TypeError(
    `${what}: ${name} was made by another copy of junjo-xstate. Two copies are loaded — the CommonJS ` +
      `build (require) beside the ESM build (import), or two installed versions: import every part of a ` +
      `workflow the same way, from one copy (check with \`npm ls junjo-xstate\`)`,
  );
}
