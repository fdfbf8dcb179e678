/**
 * Loads an optional peer dependency of a Node-only entry (`better-sqlite3`, `pg`, `pg-boss`)
 * so that, when it is not installed, the error says which package to install instead of a bare
 * ERR_MODULE_NOT_FOUND. Synchronous (a require), so a store's constructor can use it; works in
 * both the ESM and the CommonJS build.
 */
import { createRequire } from 'node:module';

export function optionalModule<T>(name: string, install: string, entry: string): T {
  // CommonJS has __filename; ESM (also bundled, or under tsx) has import.meta.url. The name
  // `require` itself is avoided: bundlers replace it with a stub that throws in ESM.
  const load = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
  try {
    return load(name) as T;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if ((code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${name}'`)) {
      throw new Error(`${entry} needs the package '${name}', which is not installed: npm install ${install}`, { cause: err });
    }
    throw err;
  }
}
