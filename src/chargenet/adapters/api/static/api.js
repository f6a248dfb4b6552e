// Calls to the platform's JSON API. Endpoints of parts that may not be installed are
// optional: `optional()` answers null instead of failing, and the panel says so.
function csrf() {
  const m = document.cookie.match(/(?:^|; )chargenet_csrf=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export class HttpError extends Error {
  constructor(status, detail) { super(`${status}: ${detail}`); this.status = status; this.detail = detail; }
}

// The response when it is a success, else an HttpError with the API's `detail`.
async function checked(response) {
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail ?? detail; } catch { /* not JSON */ }
    throw new HttpError(response.status, detail);
  }
  return response;
}

// A server that is still loading (the finder's live index after a start) answers 503 with
// Retry-After: a read waits that long (at most 5 s a time) and asks again, a few times,
// rather than show the visitor an error for something a moment will cure.
const RETRIES_WHILE_LOADING = 6;

async function fetchJson(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const wait = Number(response.headers.get("Retry-After"));
    if (response.status !== 503 || !(wait >= 0) || attempt >= RETRIES_WHILE_LOADING) return checked(response);
    await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5) * 1000));
  }
}

export async function get(path, params = {}) {
  return (await fetchJson(path, params)).json();
}

// A list endpoint that says its full size in X-Total-Count: {rows, total}.
export async function page(path, params = {}) {
  const response = await fetchJson(path, params);
  const rows = await response.json();
  const total = Number(response.headers.get("X-Total-Count") ?? rows.length);
  return { rows, total };
}

async function posted(path, body) {
  return checked(await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

export async function post(path, body) {
  const response = await posted(path, body);
  return response.status === 204 ? null : response.json();
}

// An action: its answer, and the event it was recorded as (X-Event-Id, null where the
// route names none) for a view that waits until it shows the change.
export async function postAction(path, body) {
  const response = await posted(path, body);
  const answer = response.status === 204 ? null : await response.json();
  return { answer, event: response.headers.get("X-Event-Id") };
}

// An endpoint another part of chargenet provides: null when it is absent (404/405/501),
// not reachable, or answers something that is not JSON.
async function orNull(call, path) {
  try {
    return await call();
  } catch (error) {
    console.info(`optional endpoint ${path} not available:`, error.message ?? error);
    return null;
  }
}

export const optional = (path, params = {}) => orNull(() => get(path, params), path);
export const optionalPage = (path, params = {}) => orNull(() => page(path, params), path);
