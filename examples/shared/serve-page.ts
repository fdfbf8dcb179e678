/**
 * Builds an example page's script with esbuild (xstate, immer and React bundled in: the page
 * needs no CDN and no install step) and serves the page on a tiny local `node:http` server.
 * Used by the browser and React examples' `serve.ts` and by their end-to-end tests.
 */
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};
const SHARED_CSS = fileURLToPath(new URL('./page.css', import.meta.url));

export interface PageOptions {
  /** The example's folder: it holds index.html. */
  dir: string;
  /** The page script, relative to `dir`; served as /app.js. */
  entry: string;
  /** 0 picks a free port. */
  port?: number;
  /** More folders to serve as they are, by URL prefix, e.g. { '/dist/': 'dist' }. */
  folders?: Record<string, string>;
}

export interface ServedPage {
  url: string;
  /** The size of the page's script, bundled and minified. */
  scriptBytes: number;
  close(): Promise<void>;
}

export async function servePage({ dir, entry, port = 0, folders = {} }: PageOptions): Promise<ServedPage> {
  const { outputFiles } = await build({
    entryPoints: [join(dir, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const script = outputFiles[0]!.contents;

  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    try {
      let body: Uint8Array;
      let type: string;
      if (path === '/' || path === '/index.html') [body, type] = [await readFile(join(dir, 'index.html')), TYPES['.html']!];
      else if (path === '/app.js') [body, type] = [script, TYPES['.js']!];
      else if (path === '/page.css') [body, type] = [await readFile(SHARED_CSS), TYPES['.css']!];
      else {
        const prefix = Object.keys(folders).find((p) => path.startsWith(p));
        if (!prefix) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
        const root = normalize(folders[prefix]!);
        const file = normalize(join(root, path.slice(prefix.length)));
        if (!file.startsWith(root + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
        [body, type] = [await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream'];
      }
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch (err) {
      const missing = (err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'EISDIR';
      res.writeHead(missing ? 404 : 500, { 'content-type': 'text/plain' }).end(missing ? 'not found' : String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/`,
    scriptBytes: script.length,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
