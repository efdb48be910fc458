import { AppError } from './errors.ts';

/** Modality (0008,0060) → reading pool. A consortium may add pools by extending this map in its consortium file. */
export type RoutingTable = Readonly<Record<string, string>>;

export const DEFAULT_ROUTING: RoutingTable = {
  ECG: 'ecg',
  CR: 'radiography',
  DX: 'radiography',
  DR: 'radiography',
  US: 'ultrasound',
};

export function routeModality(modality: string | undefined, table: RoutingTable): string {
  const m = (modality ?? '').trim().toUpperCase();
  const pool = m ? table[m] : undefined;
  if (!pool) {
    throw new AppError(
      'STUDY.UNSUPPORTED_MODALITY',
      'unprocessable',
      m
        ? `Modality ${m} is not read by this consortium (it reads ${Object.keys(table).join(', ')}). Send this study to a centre that reads ${m}.`
        : `The file has no Modality (0008,0060), so it cannot be routed to a reader. Re-export it from the device with the modality set.`,
    );
  }
  return pool;
}

/** Read-queue name for a pool and priority, as in DESIGN.md: `<pool>.<priority>`. */
export const readQueueName = (pool: string, priority: string) => `${pool}.${priority}`;
