import { composeAws } from './compose.ts';
import { loadAwsConfig } from './config.ts';
import { makeDeliveryHandler } from './delivery.ts';

const system = await composeAws(loadAwsConfig(process.env), 'delivery');
export const handler = makeDeliveryHandler(system.deps);
