import { z } from 'zod';

/**
 * The DICOM metadata projection used by ingest, the case API and the UI. Names follow the DICOM
 * keywords. `patient` is PHI: stored on the case, shown to authorised users, never logged.
 */
export const StudyMetadataSchema = z.object({
  patient: z.object({
    id: z.string().optional(),
    name: z.string().optional(),
    sex: z.string().optional(),
    birthDate: z.string().optional(),
  }),
  study: z.object({
    StudyInstanceUID: z.string(),
    StudyDate: z.string().optional(),
    StudyTime: z.string().optional(),
    AccessionNumber: z.string().optional(),
    StudyDescription: z.string().optional(),
  }),
  series: z.object({
    SeriesInstanceUID: z.string(),
    SeriesNumber: z.number().optional(),
    SeriesDescription: z.string().optional(),
  }),
  instance: z.object({
    SOPInstanceUID: z.string(),
    SOPClassUID: z.string(),
    InstanceNumber: z.number().optional(),
  }),
  Modality: z.string(),
  BodyPartExamined: z.string().optional(),
  Manufacturer: z.string().optional(),
  ManufacturerModelName: z.string().optional(),
  TransferSyntaxUID: z.string(),
  SpecificCharacterSet: z.string().optional(),
  /** True when the file had no Part 10 header and the transfer syntax was sniffed. */
  sniffedTransferSyntax: z.boolean().optional(),
  image: z
    .object({
      Rows: z.number().int(),
      Columns: z.number().int(),
      SamplesPerPixel: z.number().int(),
      BitsAllocated: z.number().int(),
      BitsStored: z.number().int(),
      PixelRepresentation: z.number().int(),
      PhotometricInterpretation: z.string(),
      NumberOfFrames: z.number().int(),
      FrameTime: z.number().optional(),
      PixelSpacing: z.tuple([z.number(), z.number()]).optional(),
      ImagerPixelSpacing: z.tuple([z.number(), z.number()]).optional(),
      WindowCenter: z.number().optional(),
      WindowWidth: z.number().optional(),
      RescaleSlope: z.number().optional(),
      RescaleIntercept: z.number().optional(),
      encapsulated: z.boolean(),
    })
    .optional(),
  waveform: z
    .object({
      groups: z.array(
        z.object({
          label: z.string().optional(),
          channels: z.number().int(),
          samples: z.number().int(),
          samplingFrequency: z.number(),
          bitsAllocated: z.number().int(),
          sampleInterpretation: z.string(),
          leads: z.array(z.string()),
        }),
      ),
    })
    .optional(),
});
export type StudyMetadata = z.infer<typeof StudyMetadataSchema>;
