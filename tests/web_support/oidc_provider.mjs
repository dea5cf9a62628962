// A real OpenID Connect provider (oidc-provider 9) on loopback, for the browser tests.
//
//   node oidc_provider.mjs CONFIG.json [PORT]     (or PORT in the environment)
//
// CONFIG: {"port": N, "clients": [{client_id, client_secret, redirect_uris}],
//          "accounts": [{sub, email, name, password}]}
// Prints "READY http://127.0.0.1:PORT" on stdout once listening; errors go to stderr.
//
// oidc-provider 9 ships no login form fit for tests, so the interaction routes are ours:
// GET /interaction/:uid shows a sign-in form, POST /interaction/:uid/login checks the
// password; consent is granted without asking (the tests sign in to a first-party app).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node oidc_provider.mjs CONFIG.json [PORT]');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const port = Number(process.argv[3] || process.env.PORT || config.port);
const issuer = `http://127.0.0.1:${port}`;
const accounts = new Map(config.accounts.map((a) => [a.sub, a]));

// A fresh signing key per run keeps the dev-keys warning out of the log.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // Every client must send a S256 code challenge, not only public ones (the default).
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The app reads email and name from the ID token, not only from userinfo.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, name: account.name };
      },
    };
  },
});

// oidc-provider reports failures as events, not on the console: make them visible.
for (const event of ['server_error', 'authorization.error', 'grant.error', 'introspection.error',
  'revocation.error', 'userinfo.error', 'end_session.error', 'backchannel.error']) {
  provider.on(event, (_ctx, err) => {
    console.error(`${event}: ${err?.name}: ${err?.message}${err?.error_description ? ` (${err.error_description})` : ''}`);
  });
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error = '') {
  const alert = error ? `<p id="error" role="alert">${escape(error)}</p>` : '';
  return `<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>Logga in – testleverantör</title></head>
<body>
<main>
<h1>Logga in</h1>
${alert}
<form method="post" action="/interaction/${escape(uid)}/login">
  <label for="login">E-post eller användar-id</label>
  <input id="login" name="login" autocomplete="username" required>
  <label for="password">Lösenord</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Logga in</button>
</form>
</main>
</body>
</html>`;
}

function send(res, status, html) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grant what the client asked for, so the consent prompt never shows.
async function grantConsent(details) {
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

async function interaction(req, res, path) {
  const [, uid, action] = path.split('/').filter(Boolean);
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    send(res, 400, 'interaction mismatch');
    return;
  }
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent') {
      const grantId = await grantConsent(details);
      await provider.interactionFinished(req, res, { consent: { grantId } }, {
        mergeWithLastSubmission: true,
      });
      return;
    }
    send(res, 200, loginPage(uid));
    return;
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    const account = [...accounts.values()].find((a) => a.sub === login || a.email === login);
    if (!account || account.password !== form.get('password')) {
      send(res, 200, loginPage(uid, 'Fel användarnamn eller lösenord.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, {
      mergeWithLastSubmission: false,
    });
    return;
  }
  send(res, 404, 'not found');
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (!path.startsWith('/interaction/')) {
    callback(req, res);
    return;
  }
  interaction(req, res, path).catch((err) => {
    console.error(`interaction error: ${err?.stack || err}`);
    if (!res.headersSent) send(res, 500, 'interaction failed');
  });
});

server.on('error', (err) => {
  console.error(`server error: ${err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive sockets from the browser would hold close()
  });
}
