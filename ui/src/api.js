// The REST API (/v1/...) of the same origin, with the session's credentials.
// The token lives in sessionStorage (this tab only, gone when it closes) and travels
// only in a header: never in a URL, so never in a server or proxy log.

const KEY = 'sdwan.session';

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || 'null');
    } catch {
      return null;
    }
  },
  // kind: 'bearer' (our tokens) or 'keystone' (X-Auth-Token); fromLogin: a session
  // token from POST /v1/auth/login, revoked on logout (a pasted API key is not).
  set(value) {
    sessionStorage.setItem(KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
  headers() {
    const s = this.get();
    if (!s) return {};
    return s.kind === 'keystone' ? { 'X-Auth-Token': s.token } : { Authorization: `Bearer ${s.token}` };
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.field = error.field || null;
    this.details = error.details || [];
  }
}

function url(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// Any 401 means the session is over (expired, revoked, logged out elsewhere).
function unauthenticated() {
  window.dispatchEvent(new CustomEvent('sdwan:unauthenticated'));
}

export async function request(method, path, { params, body, headers = {}, auth = true } = {}) {
  const init = {
    method,
    headers: { Accept: 'application/json', ...(auth ? session.headers() : {}), ...headers },
    credentials: 'omit',
    cache: 'no-store',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url(path, params), init);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: { message: text.slice(0, 200) } };
    }
  }
  if (!response.ok) {
    if (response.status === 401 && auth) unauthenticated();
    throw new ApiError(response.status, data);
  }
  return { data, etag: response.headers.get('ETag'), status: response.status };
}

export const api = {
  get: async (path, params) => (await request('GET', path, { params })).data,
  getWithEtag: (path, params) => request('GET', path, { params }),
  post: async (path, body, params) => (await request('POST', path, { body, params })).data,
  patch: (path, body, { etag, params } = {}) =>
    request('PATCH', path, { body, params, headers: etag ? { 'If-Match': etag } : {} }),
  delete: (path, { etag, params } = {}) =>
    request('DELETE', path, { params, headers: etag ? { 'If-Match': etag } : {} }),
};

// Every item of a list endpoint: the first page says the total, the others are
// fetched side by side (limit 1000, the API's maximum).
export async function listAll(path, params = {}) {
  const first = await api.get(path, { ...params, limit: 1000, offset: 0 });
  const offsets = [];
  for (let offset = 1000; offset < first.total; offset += 1000) offsets.push(offset);
  const pages = await Promise.all(offsets.map((offset) => api.get(path, { ...params, limit: 1000, offset })));
  return [first, ...pages].flatMap((page) => page.items);
}
