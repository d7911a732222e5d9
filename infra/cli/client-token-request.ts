import { z } from 'zod';

/** A token endpoint refused the client or answered something that is not a token. */
export class ClientTokenError extends Error {
  override readonly name = 'ClientTokenError';
}

const TokenAnswerSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.number().int().positive(),
});
const OAuthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

/**
 * Gets an access token with the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) from a token
 * endpoint: a stage's Cognito `/oauth2/token` or the local stack's `/local/oauth2/token`. The client
 * authenticates with HTTP Basic (`client_secret_basic`, which Cognito accepts); without `scope`
 * the endpoint grants every scope the client may have. Error messages name the endpoint's error
 * code and description, never the secret.
 */
export async function requestClientToken(options: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string | undefined;
  fetch?: typeof fetch;
}): Promise<{ accessToken: string; expiresInSeconds: number }> {
  const doFetch = options.fetch ?? fetch;
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (options.scope !== undefined) form.set('scope', options.scope);
  // RFC 6749 §2.3.1: form-urlencode id and secret before joining and base64-encoding them.
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');
  let response: Response;
  try {
    response = await doFetch(options.tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${basic}`,
      },
      body: form.toString(),
      redirect: 'error',
    });
  } catch (error) {
    throw new ClientTokenError(`The token endpoint ${options.tokenUrl} could not be reached.`, {
      cause: error,
    });
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const oauth = OAuthErrorSchema.safeParse(body);
    const reason = oauth.success
      ? `${oauth.data.error}${oauth.data.error_description ? `: ${oauth.data.error_description}` : ''}`
      : 'no OAuth error in the answer';
    throw new ClientTokenError(`The token endpoint answered ${response.status} (${reason}).`);
  }
  const answer = TokenAnswerSchema.safeParse(body);
  if (!answer.success) throw new ClientTokenError('The token endpoint answered 200 without a bearer token.');
  return { accessToken: answer.data.access_token, expiresInSeconds: answer.data.expires_in };
}
