import { composeAws } from './compose.ts';
import { loadAwsConfig } from './config.ts';
import { makeIngestHandler } from './ingest.ts';

// Module scope: config, clients and adapters once per cold start.
const system = await composeAws(loadAwsConfig(process.env), 'ingest');
export const handler = makeIngestHandler(system.deps);
