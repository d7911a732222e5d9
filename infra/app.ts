// The CDK app entry (`cdk.json`: `npx tsx infra/app.ts`). Every environment is a stage; deploy one
// with `npx cdk deploy 'dev/*' -c account=123456789012 -c region=eu-west-1`. `npm run synth`
// works offline without credentials: there are no context lookups and esbuild bundles locally.
import { createApp } from './app-factory.ts';

createApp({ bundling: true }).app.synth();
