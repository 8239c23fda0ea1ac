// Passkeys: each WebAuthn ceremony is two requests to the server around the browser's
// navigator.credentials (create to add a passkey, get to sign in). A button
// `[data-passkey=register|second|sign-in]` starts one; its form carries the CSRF token and
// the fields sent with it (name, next); `[data-passkey-status]` says what happens.
(() => {
  'use strict';

  const enc = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const dec = (text) => {
    const s = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out.buffer;
  };

  // The server's errors are its AppError as JSON: a name, or {name: message}.
  const words = {
    Csrf: 'This page has expired: reload it and try again.',
    Unauthenticated: 'Please sign in again.',
    Internal: 'Something went wrong on our side; please try again.',
    NotFound: 'Not found.',
    NotAllowed: 'You are not allowed to do this.',
  };
  const message = (body) => {
    if (typeof body === 'string') return words[body] || body;
    if (body && typeof body === 'object') {
      const [name, value] = Object.entries(body)[0] || [];
      if (name === 'Invalid') {
        const first = (value || [])[0];
        return first ? `${first.field}: ${first.message}` : 'Please correct the fields.';
      }
      if (typeof value === 'string') return value;
      return words[name] || 'That did not work.';
    }
    return 'That did not work.';
  };

  const call = async (endpoint, fields) => {
    const res = await fetch(`/api/${endpoint}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(fields),
      credentials: 'same-origin',
    });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    if (!res.ok) throw new Error(message(body));
    return body;
  };

  const creationOptions = (json) => {
    const pk = JSON.parse(json).publicKey;
    pk.challenge = dec(pk.challenge);
    pk.user.id = dec(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = dec(c.id);
    return { publicKey: pk };
  };
  const requestOptions = (json) => {
    const pk = JSON.parse(json).publicKey;
    pk.challenge = dec(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = dec(c.id);
    return { publicKey: pk };
  };
  const registration = (cred) => ({
    id: cred.id,
    rawId: enc(cred.rawId),
    type: cred.type,
    response: {
      attestationObject: enc(cred.response.attestationObject),
      clientDataJSON: enc(cred.response.clientDataJSON),
      transports: cred.response.getTransports ? cred.response.getTransports() : undefined,
    },
    extensions: cred.getClientExtensionResults(),
  });
  const assertion = (cred) => {
    const response = {
      authenticatorData: enc(cred.response.authenticatorData),
      clientDataJSON: enc(cred.response.clientDataJSON),
      signature: enc(cred.response.signature),
    };
    if (cred.response.userHandle) response.userHandle = enc(cred.response.userHandle);
    return { id: cred.id, rawId: enc(cred.rawId), type: cred.type, response, extensions: cred.getClientExtensionResults() };
  };

  const field = (form, name) => form.querySelector(`[name="${name}"]`)?.value ?? '';

  const ceremony = async (kind, form) => {
    const csrf = field(form, 'csrf');
    if (kind === 'register') {
      const options = await call('passkey_register_options', { csrf });
      const cred = await navigator.credentials.create(creationOptions(options));
      return call('passkey_register', {
        csrf, name: field(form, 'name'), credential: JSON.stringify(registration(cred)),
      });
    }
    const step = kind === 'second' ? 'second' : '';
    const options = await call('passkey_sign_in_options', { csrf, step });
    const cred = await navigator.credentials.get(requestOptions(options));
    return call('passkey_sign_in', {
      csrf, step, next: field(form, 'next'), credential: JSON.stringify(assertion(cred)),
    });
  };

  document.addEventListener('click', async (event) => {
    const button = event.target.closest('[data-passkey]');
    if (!button) return;
    event.preventDefault();
    const form = button.closest('form');
    const status = form.querySelector('[data-passkey-status]');
    const say = (text) => { if (status) status.textContent = text; };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say('This browser does not support passkeys.');
      return;
    }
    button.disabled = true;
    say('Follow your browser’s prompt…');
    try {
      const next = await ceremony(button.dataset.passkey, form);
      say('Done.');
      window.location.assign(typeof next === 'string' && next.startsWith('/') ? next : '/');
    } catch (e) {
      // The user closing the browser's prompt is not an error worth words.
      say(e && e.name === 'NotAllowedError'
        ? 'The passkey prompt was closed or timed out. Try again.'
        : (e && e.message) || 'That did not work.');
      button.disabled = false;
    }
  });
})();
