import { z } from 'zod';
import { instructions as v1 } from './v1.ts';
import { instructions as v2 } from './v2.ts';

/** The versions of the renewal-brief prompt. Which one is live is chosen per environment in config. */
export const PromptManifestSchema = z.object({
  id: z.string(),
  versions: z.array(
    z.object({
      version: z.string().regex(/^v\d+$/),
      instructions: z.string().min(1),
      outputSchemaName: z.string(),
      modelPolicy: z.string(),
    }),
  ),
  live: z.string(),
});
export type PromptManifest = z.infer<typeof PromptManifestSchema>;

export const renewalBriefPrompts: PromptManifest = PromptManifestSchema.parse({
  id: 'renewal-brief',
  versions: [
    { version: 'v1', instructions: v1, outputSchemaName: 'renewal_brief', modelPolicy: 'renewal-brief' },
    { version: 'v2', instructions: v2, outputSchemaName: 'renewal_brief', modelPolicy: 'renewal-brief' },
  ],
  live: 'v2',
});
