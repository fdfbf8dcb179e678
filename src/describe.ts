/**
 * The one safe way to turn an unknown value into text for an error message, a log line or a
 * telemetry attribute. Thrown values and cancellation reasons can be anything — an object
 * without a prototype, an object whose `toString` or `message` getter throws, a revoked Proxy —
 * and formatting an error must never throw, or the original error is lost (or a run hangs).
 */

/** The value's message (an Error's), its text (a string), or a short description; never throws. */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'string') return value;
    if (value instanceof Error) {
      const message = value.message;
      return typeof message === 'string' && message ? message : value.name || 'Error';
    }
    if (value === null || value === undefined) return String(value);
    if (typeof value === 'object' || typeof value === 'function') return describeObject(value);
    return String(value);
  } catch {
    return fallback(value);
  }
}

/** A short description of a value's kind, for "expected X, got Y": `null`, `an array`, `a number` … */
export function kindOf(value: unknown): string {
  try {
    if (value === null) return 'null';
    if (value === undefined) return 'undefined';
    if (Array.isArray(value)) return 'an array';
    if (typeof value === 'object') {
      const name = constructorName(value);
      return name && name !== 'Object' ? `a ${name}` : 'an object';
    }
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
      ? `a ${typeof value} (${String(value)})`
      : `a ${typeof value}`;
  } catch {
    return 'a value that cannot be described';
  }
}

function describeObject(value: object): string {
  // An own toString (not Object.prototype's "[object Object]") is the author's text for it.
  const toString = (value as { toString?: unknown }).toString;
  if (typeof toString === 'function' && toString !== Object.prototype.toString) {
    const text = toString.call(value);
    if (typeof text === 'string') return text;
  }
  const message = (value as { message?: unknown }).message;
  if (typeof message === 'string' && message) return message;
  try {
    const json = JSON.stringify(value);
    if (typeof json === 'string') return json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    // circular, a throwing getter or toJSON, a BigInt inside: fall through
  }
  return fallback(value);
}

function constructorName(value: object): string | undefined {
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  const name = proto?.constructor?.name;
  return typeof name === 'string' ? name : undefined;
}

function fallback(value: unknown): string {
  try {
    if (value !== null && typeof value === 'object') {
      const name = constructorName(value);
      return name ? `[object ${name}]` : '[object without prototype]';
    }
    return `[${typeof value}]`;
  } catch {
    return '[a value that cannot be described]';
  }
}
