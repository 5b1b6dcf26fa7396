// A real OpenID provider on loopback for tests/external/sso.rs: node's oidc-provider (which
// scripts/test.sh installs), with one confidential client, PKCE required, and its
// development sign-in pages (any password). Each account's e-mail, name and roles are read
// from ACCOUNTS (a JSON file) at every sign-in, so a test changes a role between sign-ins.
// It ends its sessions when the app signs a person out (RP-Initiated Logout, coming back to
// the app's /signed-out), unless ACCORD_OIDC_NO_LOGOUT=1, when it names no end-session
// endpoint at all (as Google's does not). When a person signs out at the provider, it posts a
// signed logout token to the app's /sso/back-channel-logout (Back-Channel Logout, with `sid`).
// It signs with an RSA key made at start, written (its id and PKCS#8 DER, base64) to KEY_OUT, so
// a test can sign logout tokens the app must take as the provider's (with another key beside
// it, which the provider does not publish, for forgeries). A third key, `next`, is published
// beside the first once a file KEY_OUT.rotated exists: a key the provider rotates in. How
// many times its keys were read is written to KEY_OUT.reads.
// Usage: node oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI ACCOUNTS KEY_OUT
import crypto from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

const [port, clientId, clientSecret, redirectUri, accounts, keyOut] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(process.env.ACCORD_OIDC_PROVIDER_JS));

const kid = crypto.randomUUID();
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
// And a key the provider does not publish, for a test to forge with.
const { privateKey: stranger } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
// And the key it rotates in later, under an id of its own.
const nextKid = crypto.randomUUID();
const { privateKey: next, publicKey: nextPublic } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const der = (key) => key.export({ type: 'pkcs8', format: 'der' }).toString('base64');
fs.writeFileSync(keyOut, JSON.stringify({
  kid, pkcs8: der(privateKey), stranger: der(stranger), next_kid: nextKid, next: der(next),
}));
const signing = { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
const nextPublished = { ...nextPublic.export({ format: 'jwk' }), kid: nextKid, use: 'sig', alg: 'RS256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri.replace('/sign-in/sso/callback', '/signed-out')],
    backchannel_logout_uri: redirectUri.replace('/sign-in/sso/callback', '/sso/back-channel-logout'),
    backchannel_logout_session_required: true,
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signing] },
  // The app listens on loopback here, which the provider's guard against requests to private
  // addresses (SSRF) refuses; a real provider reaches Accord at its public URL.
  fetch(url, options) {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub', 'roles', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
  // The claims in the ID token itself, as Entra ID puts `roles` there.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: process.env.ACCORD_OIDC_NO_LOGOUT !== '1' },
    backchannelLogout: { enabled: true },
  },
  ttl: { IdToken: 300, AccessToken: 300, AuthorizationCode: 60, Session: 600, Interaction: 600, Grant: 600 },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const all = JSON.parse(fs.readFileSync(accounts, 'utf8'));
        const a = all[id] || {};
        return { sub: id, email: a.email, email_verified: true, name: a.name, roles: a.roles || [], groups: a.groups || [] };
      },
    };
  },
});
// Its published keys gain the next one once the test rotates it in; how many times they were
// read is kept in KEY_OUT.reads.
let keyReads = 0;
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/jwks' || ctx.status !== 200) return;
  if (fs.existsSync(`${keyOut}.rotated`)) ctx.body = { keys: [...ctx.body.keys, nextPublished] };
  keyReads += 1;
  fs.writeFileSync(`${keyOut}.reads`, String(keyReads));
});
provider.on('backchannel.error', (ctx, err) => console.error('backchannel logout failed:', err.message));
provider.listen(Number(port), '127.0.0.1', () => console.log('ready'));
