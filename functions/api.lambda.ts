import { makeApiHandler } from './api.ts';
import { composeAws } from './compose.ts';
import { loadAwsConfig } from './config.ts';

const system = await composeAws(loadAwsConfig(process.env), 'api', { renders: true });
export const handler = makeApiHandler(system.deps, system.tokens);
