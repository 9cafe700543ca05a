// A real OpenID Connect provider on loopback for Consulate's sign-in tests (the npm
// `oidc-provider` package). Configured from the environment:
//   CLIENTS   JSON array of clients (client_id, client_secret, redirect_uris)
//   ACCOUNTS  JSON object: account id -> extra claims (email, tid, name, amr, ...)
// The login step signs in the account named by the authorization request's login_hint, so
// tests choose who signs in without a form. Listens on PORT (any free port when unset) and
// prints "issuer <url>" once it does. Every start signs with a new RSA key under a new key
// id, so a restart on the same port is the same issuer with rotated keys.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.CLIENTS || '[]');
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
const port = Number(process.env.PORT || 0);

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomUUID(),
  use: 'sig',
  alg: 'RS256',
};

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey] },
    async findAccount(ctx, id) {
      if (!accounts[id]) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...accounts[id] }; } };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'tid', 'oid'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: { keys: ['consulate-test-provider'] },
  });
  provider.proxy = false;
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      const hint = details.params.login_hint;
      if (details.prompt.name === 'login') {
        const result = accounts[hint]
          ? { login: { accountId: hint } }
          : { error: 'access_denied', error_description: 'unknown account' };
        return await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      return await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  console.log(`issuer ${issuer}`);
});
process.on('SIGTERM', () => process.exit(0));
