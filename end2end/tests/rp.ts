import http from 'node:http';
import crypto from 'node:crypto';

// A small relying party: /start sends the browser to Latchkey with PKCE, /cb takes the code
// back and exchanges it for tokens at the token endpoint, as any web app would; /refresh
// uses the last refresh token it got.
export const issuer = `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}`;
const b64url = (b: Buffer) => b.toString('base64url');

export function startClient(port: number, clientId: string, secret: string, scope = 'openid email'): Promise<http.Server> {
  const pending = new Map<string, string>();
  let refreshToken = '';
  const basic = `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`;
  const redirectUri = `http://127.0.0.1:${port}/cb`;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, redirectUri);
    const html = (body: string) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!DOCTYPE html><html><body>${body}</body></html>`);
    };
    if (url.pathname === '/start') {
      const verifier = b64url(crypto.randomBytes(32));
      const state = b64url(crypto.randomBytes(16));
      pending.set(state, verifier);
      const auth = new URL('/oauth2/authorize', issuer);
      auth.search = new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: redirectUri, scope,
        state, nonce: b64url(crypto.randomBytes(16)),
        code_challenge: b64url(crypto.createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
        ...(url.searchParams.get('prompt') ? { prompt: url.searchParams.get('prompt')! } : {}),
      }).toString();
      res.writeHead(302, { location: auth.toString() });
      return res.end();
    }
    if (url.pathname === '/refresh') {
      const answer = await fetch(`${issuer}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      });
      const tokens = await answer.json();
      if (!answer.ok) return html(`<h1 id="result">Refresh error: ${tokens.error}</h1>`);
      refreshToken = tokens.refresh_token ?? '';
      return html('<h1 id="result">Refreshed</h1>');
    }
    if (url.pathname === '/cb') {
      const state = url.searchParams.get('state') ?? '';
      const verifier = pending.get(state);
      if (!verifier || url.searchParams.get('iss') !== issuer) return html('<h1 id="result">Bad state or issuer</h1>');
      pending.delete(state);
      if (url.searchParams.get('error')) return html(`<h1 id="result">Error: ${url.searchParams.get('error')}</h1>`);
      const answer = await fetch(`${issuer}/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: url.searchParams.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier }),
      });
      const tokens = await answer.json();
      if (!answer.ok) return html(`<h1 id="result">Token error: ${tokens.error}</h1>`);
      refreshToken = tokens.refresh_token ?? '';
      const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
      return html(`<h1 id="result">Signed in as ${claims.email}</h1><p id="scope">${tokens.scope}</p>`);
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

