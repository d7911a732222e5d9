/** The local OpenAI-compatible model server: see `server.ts` for the routes and `faults.ts` for fault injection. */
export { startModelServer } from './server.ts';
export type { ModelServer, ModelServerOptions, ModelServerStats, ModelUsageStats } from './server.ts';
export { FaultRuleSchema, FaultSchema } from './faults.ts';
export type { Fault, FaultKind, FaultRule } from './faults.ts';
export { composeRenewalBrief, looksLikeInstruction } from './brief.ts';
export { extractContext } from './context.ts';
export { sampleFromJsonSchema } from './json-schema.ts';
