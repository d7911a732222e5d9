import { z } from 'zod';

/**
 * The local stack's own settings (separate from the Lambda config in `shared/config.ts`):
 *
 * | env var                      | meaning                                              | default |
 * |------------------------------|------------------------------------------------------|---------|
 * | PORT                         | port of the local API                                 | 3000 |
 * | REIN_DATA_DIR                | DynamoDB Local data and the dev signing key            | .rein |
 * | REIN_SEED                    | data set to load instead of the demo (see README)      | demo data |
 * | OPENAI_API_KEY               | use real OpenAI instead of the local model server (empty = unset) | unset |
 * | OPENAI_BASE_URL              | OpenAI-compatible endpoint, as the SDK honours it (empty = unset) | unset |
 * | REIN_REVIEW_TIMEOUT_SECONDS  | override the review timeout of the dev stage           | dev config (1 day) |
 * | REIN_API_URL                 | base URL `npm run import` pushes to                    | http://127.0.0.1:PORT |
 * | REIN_TOKEN                   | bearer token `npm run import` sends                    | unset |
 * | REIN_TOKEN_URL               | token endpoint `npm run client-token` asks (a stage's TokenEndpoint) | the local stack's |
 * | REIN_CLIENT_SECRET           | the machine client's secret `npm run client-token` sends | the seed's, locally |
 * | REIN_ACTION_RECEIVER_PORT    | port of the demo CRM's action receiver (loopback)      | 3001 |
 */
/** Set but empty counts as unset, as the OpenAI SDK and most tools read these variables. */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

export const LocalEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REIN_DATA_DIR: z.string().min(1).default('.rein'),
  REIN_SEED: z.string().min(1).optional(),
  OPENAI_API_KEY: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  OPENAI_BASE_URL: z.preprocess(unsetIfEmpty, z.url().optional()),
  REIN_REVIEW_TIMEOUT_SECONDS: z.coerce.number().int().positive().optional(),
  REIN_API_URL: z.url().optional(),
  REIN_TOKEN: z.string().min(1).optional(),
  REIN_TOKEN_URL: z.url().optional(),
  REIN_CLIENT_SECRET: z.preprocess(unsetIfEmpty, z.string().min(1).optional()),
  REIN_ACTION_RECEIVER_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
});

export function localEnv(
  source: Record<string, string | undefined> = process.env,
): z.infer<typeof LocalEnvSchema> {
  const parsed = LocalEnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(
      `Invalid local settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
