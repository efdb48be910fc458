import { z } from 'zod';

/**
 * Decoded ECG samples for the viewer: `GET /api/cases/{caseId}/instances/{n}/waveform`.
 * Millivolts per lead, at the group's sampling frequency. Measurements are advisory.
 */
export const WaveformResponseSchema = z.object({
  source: z.enum(['dicom', 'hl7-aecg', 'scp-ecg']),
  groups: z.array(
    z.object({
      label: z.string(),
      samplingFrequency: z.number(),
      leads: z.array(z.object({ name: z.string(), mv: z.array(z.number()) })),
    }),
  ),
  measurements: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])).nullable(),
  flags: z.array(z.string()),
  deviceMeasurements: z.record(z.string(), z.number().nullable()),
  advisory: z.literal(true),
});
export type WaveformResponse = z.infer<typeof WaveformResponseSchema>;
