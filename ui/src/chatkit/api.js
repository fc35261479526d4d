// The ChatKit protocol client: one POST endpoint, JSON answers or text/event-stream answers
// (spec: chatkit-protocol §1). It also owns authentication: with `getClientSecret` every request
// carries `Authorization: Bearer <secret>`, the secret is refreshed shortly before it expires
// (when its expiry is known) and once more after a 401, and the request is then retried once.

import { readEventStream } from './sse.js';

/** An error with the HTTP status and the server's error code when there was an answer. */
export class ChatKitError extends Error {
  constructor(message, { status = 0, code = '', cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'ChatKitError';
    this.status = status;
    this.code = code;
  }
}

const REFRESH_MARGIN_S = 60; // refresh this long before a known expiry

export class ChatKitApi {
  /**
   * @param {object} api the `api` option (url, fetch, getClientSecret, uploadStrategy)
   * @param {() => string} locale current locale, sent as Accept-Language
   * @param {(name: string, data?: object) => void} log diagnostics sink (no user content)
   */
  constructor(api, locale, log) {
    this.url = api.url || '/chatkit';
    this.fetchImpl = api.fetch || ((...args) => fetch(...args));
    this.getClientSecret = typeof api.getClientSecret === 'function' ? api.getClientSecret : null;
    this.uploadStrategy = api.uploadStrategy || null;
    this.locale = locale;
    this.log = log;
    this.secret = null; // the current client secret (string) or null before the first one
    this.expiresAt = 0; // unix seconds, 0 = unknown
    this.secretPromise = null; // a refresh in flight, shared by concurrent requests
  }

  /** Fetches a new secret (passing the current one, as ChatKit does) and remembers it. */
  refreshSecret() {
    if (!this.getClientSecret) return Promise.resolve(null);
    if (!this.secretPromise) {
      const previous = this.secret;
      this.secretPromise = Promise.resolve(this.getClientSecret(previous))
        .then((answer) => {
          // ChatKit's contract is a string; an object {client_secret, expires_at} is our
          // documented extension that lets the element refresh before expiry.
          if (answer && typeof answer === 'object') {
            this.secret = String(answer.client_secret || '');
            this.expiresAt = Number(answer.expires_at) || 0;
          } else {
            this.secret = String(answer || '');
            this.expiresAt = 0;
          }
          if (!this.secret) throw new ChatKitError('getClientSecret returned no secret');
          this.log('session.secret', { refreshed: previous !== null });
          return this.secret;
        })
        .catch((err) => {
          throw err instanceof ChatKitError
            ? err
            : new ChatKitError(`getClientSecret failed: ${err && err.message}`, { cause: err });
        })
        .finally(() => {
          this.secretPromise = null;
        });
    }
    return this.secretPromise;
  }

  async currentSecret() {
    if (!this.getClientSecret) return null;
    const soon = this.expiresAt && Date.now() / 1000 > this.expiresAt - REFRESH_MARGIN_S;
    if (!this.secret || soon) await this.refreshSecret();
    return this.secret;
  }

  /** Headers for a request to our own server (auth + locale). */
  async headers(extra = {}) {
    const h = { 'Accept-Language': this.locale(), ...extra };
    const secret = await this.currentSecret();
    if (secret) h.Authorization = `Bearer ${secret}`;
    return h;
  }

  /**
   * fetch() with auth; a 401 refreshes the secret and retries once. Answers the Response;
   * throws ChatKitError for network failures and for non-2xx answers (with the server's code).
   */
  async authorizedFetch(url, init = {}, extraHeaders = {}) {
    for (let attempt = 0; ; attempt++) {
      let res;
      try {
        res = await this.fetchImpl(url, { ...init, headers: await this.headers(extraHeaders) });
      } catch (err) {
        if (err && err.name === 'AbortError') throw err;
        if (err instanceof ChatKitError) throw err;
        throw new ChatKitError(`cannot reach ${url}: ${err && err.message}`, {
          code: 'network_error',
          cause: err,
        });
      }
      if (res.status === 401 && this.getClientSecret && attempt === 0) {
        await this.refreshSecret();
        continue;
      }
      if (!res.ok) throw await errorFromResponse(res);
      return res;
    }
  }

  /** A non-streaming request; answers the parsed JSON body. */
  async json(type, params = {}, signal) {
    const res = await this.authorizedFetch(
      this.url,
      { method: 'POST', body: JSON.stringify({ type, params }), signal },
      { 'Content-Type': 'application/json' },
    );
    const text = await res.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch (err) {
      throw new ChatKitError(`${type}: the server answered invalid JSON`, { cause: err });
    }
  }

  /**
   * A streaming request: calls onEvent(event) for every ThreadStreamEvent, resolves at the end
   * of the body. Aborting `signal` rejects with an AbortError (the server sees the close).
   */
  async stream(type, params, onEvent, signal) {
    const res = await this.authorizedFetch(
      this.url,
      { method: 'POST', body: JSON.stringify({ type, params }), signal },
      { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
    );
    if (!res.body) throw new ChatKitError(`${type}: the answer has no body`);
    await readEventStream(res.body, (data) => {
      let event;
      try {
        event = JSON.parse(data);
      } catch {
        this.log('stream.invalid_event', { type });
        return;
      }
      onEvent(event);
    });
  }

  /** Uploads one File with the configured strategy; answers the Attachment object. */
  async upload(file, signal) {
    const strategy = this.uploadStrategy;
    if (!strategy) throw new ChatKitError('attachments need api.uploadStrategy');
    if (strategy.type === 'direct') {
      const form = new FormData();
      form.append('file', file, file.name);
      const res = await this.authorizedFetch(strategy.uploadUrl, {
        method: 'POST',
        body: form,
        signal,
      });
      return res.json();
    }
    if (strategy.type !== 'two_phase') {
      throw new ChatKitError(`unknown uploadStrategy.type ${strategy.type}`);
    }
    const created = await this.json(
      'attachments.create',
      { name: file.name, size: file.size, mime_type: file.type || 'application/octet-stream' },
      signal,
    );
    const desc = created.upload_descriptor;
    if (!desc || !desc.url) return created;
    const sameOrigin = new URL(desc.url, location.href).origin === location.origin;
    const init = { method: desc.method || 'PUT', body: file, signal };
    let res;
    if (sameOrigin) {
      res = await this.authorizedFetch(desc.url, init, { ...(desc.headers || {}) });
    } else {
      // A presigned URL elsewhere: no bearer token leaves our origin.
      res = await this.fetchImpl(desc.url, { ...init, headers: { ...(desc.headers || {}) } });
      if (!res.ok) throw await errorFromResponse(res);
    }
    const text = await res.text();
    let uploaded = null;
    try {
      uploaded = text ? JSON.parse(text) : null;
    } catch {
      uploaded = null;
    }
    const result = uploaded && uploaded.id ? uploaded : { ...created };
    delete result.upload_descriptor;
    return result;
  }

  /**
   * A URL an <img> can load: same-origin server files get the secret as ?token= (img cannot
   * send headers, docs/api.md "GET /files/{id}"); anything else is returned unchanged.
   */
  imageUrl(url) {
    if (!url) return '';
    let u;
    try {
      u = new URL(url, location.href);
    } catch {
      return '';
    }
    if (u.origin === location.origin && this.secret && u.pathname.startsWith('/files/')) {
      u.searchParams.set('token', this.secret);
    }
    return u.href;
  }
}

async function errorFromResponse(res) {
  let code = '';
  let message = `${res.status} ${res.statusText}`.trim();
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || '';
      message = body.error.message || message;
    }
  } catch {
    /* not JSON: keep the status line */
  }
  return new ChatKitError(message, { status: res.status, code });
}
