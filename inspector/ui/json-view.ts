/**
 * A read-only JSON view of a state with the fields a commit changed marked: changed values
 * are highlighted, the objects containing them are flagged, and removed fields are shown
 * struck through, so a person sees at a glance what one commit did.
 */
import type { Patch } from './model.js';

const key = (path: readonly (string | number)[]) => path.join('\u0000');

/** Entries past which an array or object is shown in part, and how many at each end. */
const LONG = 200;
const HEAD = 50;
const TAIL = 10;

function h(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function scalar(value: unknown): HTMLElement {
  if (value === null || value === undefined) return h('span', 'j-null', String(value));
  if (typeof value === 'string') return h('span', 'j-string', JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean') return h('span', `j-${typeof value}`, String(value));
  return h('span', 'j-other', JSON.stringify(value));
}

/** The value at `path` inside `value`, or undefined. */
function at(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[step];
  }
  return v;
}

/**
 * `value` with the fields `patches` changed marked; given `previous` (the state before them), a
 * replaced scalar also shows the value it had.
 */
export function renderJson(value: unknown, patches: readonly Patch[] = [], previous?: unknown): HTMLElement {
  const changed = new Map<string, Patch['op']>();
  const within = new Set<string>();
  const removed = new Map<string, Patch[]>();
  for (const patch of patches) {
    changed.set(key(patch.path), patch.op);
    for (let i = 0; i < patch.path.length; i++) within.add(key(patch.path.slice(0, i)));
    if (patch.op === 'remove') {
      const parent = key(patch.path.slice(0, -1));
      removed.set(parent, [...(removed.get(parent) ?? []), patch]);
    }
  }

  const root = h('div', 'json');
  const line = (depth: number, path: (string | number)[], label: string | undefined, body: (row: HTMLElement) => void) => {
    const row = h('div', 'j-row');
    row.style.paddingLeft = `${depth * 16}px`;
    const op = path.length ? changed.get(key(path)) : undefined;
    if (op) {
      row.classList.add('j-changed', `j-${op}`);
      row.dataset.changed = op;
    } else if (within.has(key(path)) && path.length) row.classList.add('j-within');
    if (label !== undefined) row.append(h('span', 'j-key', `${label}: `));
    body(row);
    root.append(row);
  };

  const walk = (v: unknown, depth: number, path: (string | number)[], label: string | undefined, trailing: string) => {
    if (v && typeof v === 'object') {
      const isArray = Array.isArray(v);
      const entries: [string | number, unknown][] = isArray ? (v as unknown[]).map((x, i) => [i, x]) : Object.entries(v);
      const gone = removed.get(key(path)) ?? [];
      if (!entries.length && !gone.length) {
        line(depth, path, label, (row) => row.append(h('span', 'j-punct', (isArray ? '[]' : '{}') + trailing)));
        return;
      }
      line(depth, path, label, (row) => row.append(h('span', 'j-punct', isArray ? '[' : '{')));
      // A long array or object shows its first and last entries and the ones that changed:
      // a 10,000-item state would otherwise be 10,000 rows on every step.
      const shownAt = (i: number, k: string | number) =>
        entries.length <= LONG || i < HEAD || i >= entries.length - TAIL || within.has(key([...path, k])) || changed.has(key([...path, k]));
      let skipped = 0;
      const flushSkipped = () => {
        if (!skipped) return;
        const row = h('div', 'j-row j-skipped', `… ${skipped} more`);
        row.style.paddingLeft = `${(depth + 1) * 16}px`;
        root.append(row);
        skipped = 0;
      };
      entries.forEach(([k, child], i) => {
        if (!shownAt(i, k)) {
          skipped++;
          return;
        }
        flushSkipped();
        walk(child, depth + 1, [...path, k], String(k), i < entries.length - 1 ? ',' : '');
      });
      flushSkipped();
      for (const patch of gone) {
        const row = h('div', 'j-row j-changed j-remove');
        row.dataset.changed = 'remove';
        row.style.paddingLeft = `${(depth + 1) * 16}px`;
        row.append(h('span', 'j-key', `${String(patch.path.at(-1))}: `), h('span', 'j-null', '(removed)'));
        const old = previous === undefined ? undefined : at(previous, patch.path);
        if (old !== undefined) {
          const was = h('span', 'j-was', 'was ');
          was.append(scalar(typeof old === 'object' && old !== null ? JSON.stringify(old).slice(0, 200) : old));
          row.append(was);
        }
        root.append(row);
      }
      line(depth, [...path, '\u0001'], undefined, (row) => row.append(h('span', 'j-punct', (isArray ? ']' : '}') + trailing)));
      return;
    }
    line(depth, path, label, (row) => {
      row.append(scalar(v));
      if (trailing) row.append(h('span', 'j-punct', trailing));
      if (previous !== undefined && changed.get(key(path)) === 'replace') {
        const old = at(previous, path);
        if (old === undefined || (old && typeof old === 'object')) return;
        const was = h('span', 'j-was', 'was ');
        was.append(scalar(old));
        row.append(was);
      }
    });
  };
  walk(value, 0, [], undefined, '');
  return root;
}
