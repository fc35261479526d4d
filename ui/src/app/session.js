// Chat sessions for the page: `POST /api/chatkit/sessions` mints a client secret for the user
// of this browser (cookie or proxy header, docs/api.md). One secret serves the chat element, the
// task REST calls and the live feed; it is renewed a minute before it expires, and at once when
// a caller reports it stale.

const MARGIN_S = 60;

export class SessionError extends Error {
  constructor(message, { status = 0, code = '', network = false } = {}) {
    super(message);
    this.name = 'SessionError';
    this.status = status;
    this.code = code;
    this.network = network;
  }
}

export class Sessions {
  constructor(url = '/api/chatkit/sessions') {
    this.url = url;
    this.current = null; // {client_secret, session_id, expires_at}
    this.inflight = null;
    this.timer = 0;
    this.listeners = new Set(); // called with the new session after each creation
  }

  onChange(fn) {
    this.listeners.add(fn);
  }

  valid() {
    return this.current && Date.now() / 1000 < this.current.expires_at - MARGIN_S;
  }

  /** The current session, creating one when there is none or it is about to expire. */
  async get() {
    return this.valid() ? this.current : this.create();
  }

  get secret() {
    return this.current ? this.current.client_secret : null;
  }

  /** `stale` is the secret a caller found refused or expiring: replace it unless already done. */
  async refresh(stale) {
    if (this.current && this.current.client_secret !== stale && this.valid()) return this.current;
    return this.create();
  }

  create() {
    if (this.inflight) return this.inflight;
    this.inflight = this.request().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  async request() {
    let res;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new SessionError(`network error: ${err.message}`, { network: true });
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok || !body || !body.client_secret) {
      const e = body && body.error;
      throw new SessionError(e ? `${res.status} ${e.code}: ${e.message}` : `HTTP ${res.status}`, {
        status: res.status,
        code: e ? e.code : '',
        network: res.status === 502 || res.status === 504,
      });
    }
    this.current = body;
    console.log(`Got ChatKit session: ${body.session_id}`);
    clearTimeout(this.timer);
    const wait = Math.max(5, body.expires_at - Date.now() / 1000 - MARGIN_S) * 1000;
    this.timer = setTimeout(() => this.create().catch(() => {}), Math.min(wait, 2 ** 31 - 1));
    for (const fn of this.listeners) fn(body);
    return body;
  }

  /**
   * fetch() for our REST routes with the bearer secret; a 401 renews the session and retries
   * once. Throws SessionError on network failure.
   */
  async fetch(url, init = {}) {
    for (let attempt = 0; ; attempt++) {
      const s = await this.get();
      let res;
      try {
        res = await fetch(url, { ...init, headers: { ...(init.headers || {}), Authorization: `Bearer ${s.client_secret}` } });
      } catch (err) {
        if (err.name === 'AbortError') throw err;
        throw new SessionError(`network error: ${err.message}`, { network: true });
      }
      if (res.status === 401 && attempt === 0) {
        await this.refresh(s.client_secret);
        continue;
      }
      return res;
    }
  }
}
