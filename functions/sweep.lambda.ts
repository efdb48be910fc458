import { composeAws } from './compose.ts';
import { loadAwsConfig } from './config.ts';
import { makeSweepHandler } from './sweep.ts';

const system = await composeAws(loadAwsConfig(process.env), 'sweep');
export const handler = makeSweepHandler(system.deps);
