// The API token of this tab. The master answers every API call and feed
// with 401 unless it carries a token (Authorization: Bearer, or for a
// websocket the subprotocol "stampede.token.<token>", never the URL). The
// token is kept in sessionStorage: it lives as long as the tab, and other
// sites cannot read it.
//
// A link of the form http://HOST:PORT/#token=<token> logs in: takeTokenFromURL
// moves the token into sessionStorage and removes it from the address bar
// and the history entry.

const key = "stampede.token";
const listeners = new Set<() => void>();
let why = "";

// reason says why the last logout happened ("" after a login).
export function reason(): string {
  return why;
}

export function token(): string {
  try {
    return sessionStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

export function setToken(t: string): void {
  why = "";
  sessionStorage.setItem(key, t.trim());
  for (const l of listeners) l();
}

// logout forgets the token (the master refused it, or the user asked);
// because is shown on the login form.
export function logout(because = ""): void {
  why = because;
  sessionStorage.removeItem(key);
  for (const l of listeners) l();
}

// onChange calls l whenever the token is set or forgotten.
export function onChange(l: () => void): void {
  listeners.add(l);
}

// tokenFromHash returns the token of a "#token=<token>" fragment, or "".
export function tokenFromHash(hash: string): string {
  const m = /^#token=([^&]*)/.exec(hash);
  if (!m) return "";
  try {
    return decodeURIComponent(m[1]).trim();
  } catch {
    return "";
  }
}

// takeTokenFromURL removes a #token= fragment from the address bar (and
// its history entry), replacing it with the cluster view's, and returns its
// token; it returns "" when the address holds none.
export function takeTokenFromURL(): string {
  if (!/^#token=/.test(location.hash)) return "";
  const t = tokenFromHash(location.hash);
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  return t;
}

// authHeaders are the headers of an authenticated API call.
export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// websocketProtocols are what a feed offers: the protocol the master
// selects and the one that carries the token.
export function websocketProtocols(): string[] {
  const t = token();
  return t ? ["stampede", `stampede.token.${t}`] : ["stampede"];
}
