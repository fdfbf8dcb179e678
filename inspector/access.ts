/**
 * Who may talk to the inspector server, decided per request: the per-server token, the Host
 * check against DNS rebinding, the Origin check, and the headers that keep the UI from being
 * framed. Kept apart from the server so the rules can be read (and tested) in one place.
 *
 * The rules:
 * - Reading runs (the `/ui` socket, `/api/*`) needs the token, and a browser may only do it
 *   from the UI's own origin. The token travels in the URL the server prints, as Jupyter's
 *   does; the UI keeps it in the tab's sessionStorage and takes it out of the address bar.
 * - Sending events (the app socket `/`) needs no token on a loopback server: only processes on
 *   this machine reach it, a browser page on another origin is refused by its Origin, and a
 *   sender cannot read anything back. On a server opened to the network (`allowRemote`) the
 *   app socket needs the token as well.
 * - Every request must name the server by a host it answers to: on loopback a loopback name;
 *   opened to the network also an IP address, this machine's host name or `allowedHosts`.
 *   A DNS-rebinding page always names its own domain, so it is refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** True when `host` (an interface to listen on) only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A fresh random token: 32 url-safe characters, 192 bits. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Headers for every HTTP response: nothing loads from elsewhere, and nothing may frame it. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The page's URL carries the token; no request from it may pass that on.
  'referrer-policy': 'no-referrer',
  // No Cross-Origin-Opener-Policy: it would cut the UI off from a browser app that opened it
  // (createBrowserInspector), which reaches the server only with the token in its URL anyway.
  'cross-origin-resource-policy': 'same-origin',
};

export interface AccessRules {
  token: string;
  /** True when the server listens beyond loopback. */
  remote: boolean;
  /** Extra host names the server answers to when remote. */
  allowedHosts?: readonly string[];
}

/** What a request is for: the UI's static files, reading runs, or sending events. */
export type Channel = 'page' | 'read' | 'send';

/** The request's host name without its port, lower-cased, brackets kept for IPv6. */
function hostName(hostHeader: string): string {
  const lower = hostHeader.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  return lower.replace(/:\d+$/, '');
}

function knownHost(name: string, rules: AccessRules): boolean {
  if (LOOPBACK_NAMES.has(name)) return true;
  if (!rules.remote) return false;
  const bare = name.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return true;
  const me = hostname().toLowerCase();
  return name === me || name === `${me}.local` || (rules.allowedHosts ?? []).some((h) => h.toLowerCase() === name);
}

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token a request carries: `?token=` (browsers cannot set WebSocket headers) or a bearer header. */
export function tokenOf(req: IncomingMessage): string | null {
  const fromQuery = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
  if (fromQuery) return fromQuery;
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : null;
}

/** Why a request for `channel` is refused, or undefined to let it through. */
export function refusal(req: IncomingMessage, channel: Channel, rules: AccessRules): string | undefined {
  const hostHeader = req.headers.host ?? '';
  if (!knownHost(hostName(hostHeader), rules)) {
    return `Host '${hostHeader}' is not a name this server answers to${rules.remote ? ' (add it with --allowed-host)' : ' (it listens on loopback only)'}`;
  }
  // The page and its script hold no run data: any tab may load them from a host we answer to.
  if (channel === 'page') return undefined;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return `malformed Origin '${origin}'`;
    }
    if (parsed.host !== hostHeader.toLowerCase() || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      return `foreign Origin '${origin}'`;
    }
  }
  if ((channel === 'read' || rules.remote) && !sameToken(tokenOf(req), rules.token)) {
    return tokenOf(req) ? 'wrong token' : 'no token (open the URL the server printed, with its ?token=)';
  }
  return undefined;
}
