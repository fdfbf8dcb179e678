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
  /** Per path, the keys of its entries that a patch touches: shown even in a long array or object. */
  const touched = new Map<string, Set<string>>();
  const removed = new Map<string, Patch[]>();
  for (const patch of patches) {
    changed.set(key(patch.path), patch.op);
    for (let i = 0; i < patch.path.length; i++) {
      const parent = key(patch.path.slice(0, i));
      within.add(parent);
      let keys = touched.get(parent);
      if (!keys) touched.set(parent, (keys = new Set()));
      keys.add(String(patch.path[i]));
    }
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
      const size = isArray ? (v as unknown[]).length : 0;
      const entries: [string | number, unknown][] | undefined = isArray ? undefined : Object.entries(v);
      const count = entries ? entries.length : size;
      const gone = removed.get(key(path)) ?? [];
      if (!count && !gone.length) {
        line(depth, path, label, (row) => row.append(h('span', 'j-punct', (isArray ? '[]' : '{}') + trailing)));
        return;
      }
      line(depth, path, label, (row) => row.append(h('span', 'j-punct', isArray ? '[' : '{')));
      // A long array or object shows its first and last entries and the ones that changed:
      // a 10,000-item state would otherwise be 10,000 rows on every step. Only the entries
      // shown are looked at, so a step costs the same whatever the state's size.
      const marked = touched.get(key(path));
      let skipped = 0;
      const flushSkipped = () => {
        if (!skipped) return;
        const row = h('div', 'j-row j-skipped', `… ${skipped} more`);
        row.style.paddingLeft = `${(depth + 1) * 16}px`;
        root.append(row);
        skipped = 0;
      };
      const show = (i: number, k: string | number, child: unknown) => {
        flushSkipped();
        walk(child, depth + 1, [...path, k], String(k), i < count - 1 ? ',' : '');
      };
      if (count <= LONG) {
        for (let i = 0; i < count; i++) (entries ? show(i, entries[i]![0], entries[i]![1]) : show(i, i, (v as unknown[])[i]));
      } else {
        // The head, the touched entries in between (in order), the tail; the rest counted.
        const keys = entries ? entries.map(([k]) => k) : undefined;
        const middle = [...(marked ?? [])]
          .map((k) => (keys ? keys.indexOf(k) : /^\d+$/.test(k) ? Number(k) : -1))
          .filter((i) => i >= HEAD && i < count - TAIL)
          .sort((a, b) => a - b);
        let next = 0;
        for (const i of [...Array.from({ length: HEAD }, (_, j) => j), ...new Set(middle), ...Array.from({ length: TAIL }, (_, j) => count - TAIL + j)]) {
          skipped += i - next;
          next = i + 1;
          show(i, entries ? entries[i]![0] : i, entries ? entries[i]![1] : (v as unknown[])[i]);
        }
      }
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
