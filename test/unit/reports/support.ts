import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReportContent, TemplateId } from '../../../shared/contracts/report.ts';
import { loadCjkFont } from '../../../shared/reports/font.ts';

let font: ReturnType<typeof loadCjkFont> | null = null;
/** The CJK face, extracted once per test process into a temp directory. */
export function testFont() {
  font ??= loadCjkFont({ cacheDir: mkdtempSync(join(tmpdir(), 'teleread-font-')) });
  return font;
}

const BASE: Omit<ReportContent, 'template' | 'Modality' | 'fields' | 'findings' | 'impression'> = {
  type: 'teleread.report',
  schemaVersion: 2,
  caseId: 'case-T0000001',
  clinic: { id: 'clinic-a', name: '东关镇卫生院' },
  consortium: '示范县医共体',
  patient: { id: 'P-0001', name: '吉𠮷^王', sex: 'F', birthDate: '1970-01-01' },
  StudyInstanceUID: '1.2.826.0.1.3680043.8.498.1',
  instances: [{ SOPInstanceUID: '1.2.826.0.1.3680043.8.498.1.1', sha256: 'ab'.repeat(32) }],
  critical: false,
  language: 'zh-CN',
  signer: { id: 'ecg-reader', name: '心电医师 李明', licenceNumber: 'DEMO-110000000000001', institution: '示范县人民医院 Demo County Hospital' },
  signedAt: '2026-11-23T01:02:03.000Z',
  version: 1,
  supersedes: null,
};

/** A filled-in report content per template. */
export function sampleContent(template: TemplateId, over: Partial<ReportContent> = {}): ReportContent {
  const per: Record<TemplateId, Pick<ReportContent, 'Modality' | 'fields' | 'findings' | 'impression'> & Partial<ReportContent>> = {
    ecg: {
      Modality: 'ECG',
      fields: { rhythm: 'sinus', heartRate: 72, axis: 'normal', prMs: 160, qrsMs: 88, qtMs: 380, qtcMs: 412, stT: '未见明显异常' },
      findings: '窦性心律，心率 72 次/分。各导联 ST 段未见明显偏移。',
      impression: '正常心电图',
      advisoryMeasurements: { heartRate: 71, qrsMs: 90, qtcMs: 415 },
      automaticFlags: [],
    },
    xray: {
      Modality: 'CR',
      fields: { exam: '胸部正位', projection: 'pa', quality: 'good' },
      findings: '双肺纹理清晰，未见明显实质性病变。心影大小形态正常。双侧膈面光整，肋膈角锐利。',
      impression: '心肺膈未见明显异常。',
    },
    ultrasound: {
      Modality: 'US',
      fields: { exam: '腹部超声', liver: 'normal', gallbladder: 'abnormal', pancreas: 'normal', spleen: 'normal', kidneys: 'normal' },
      findings: '胆囊大小正常，壁毛糙，腔内可见一强回声团，大小约 8×6 mm，后伴声影，随体位改变移动。',
      impression: '胆囊结石。',
    },
    generic: { Modality: 'OT', fields: {}, findings: '所见。', impression: '意见。' },
  };
  return { ...BASE, template, ...per[template], ...over } as ReportContent;
}
