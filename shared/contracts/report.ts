/**
 * The report model: per-modality templates (structured fields with Chinese and English terms), the
 * signed report document, amendments, and the verification code printed on the PDF.
 *
 * Shared with the web UI (imports only zod). A signed report is two nested documents:
 *
 * - the **content** (`ReportContent`): everything the physician attests — case, study, instances read,
 *   findings, impression, structured fields, critical flag, signer, signedAt, version, supersedes,
 *   amendment. It is signed first (`contentSignature`, a detached ES256 JWS over its RFC 8785 bytes),
 *   and the PDF is rendered from it, printing a verification code made of caseId, version and the
 *   prefix of that content signature;
 * - the **report** (`SignedReportDocument`) = content + `contentSignature` + `pdfSha256`, signed by the
 *   same signer key as the detached JWS the API returns beside it (`{report, jws}`).
 *
 * So the PDF can show a signature prefix although the signature it is bound by (the report's) covers
 * the PDF's own hash: the two signatures are over different documents and there is no cycle.
 */
import { z } from 'zod';
import { SIGNING_PIN_RULE } from '../domain/signing-pin-rule.ts';

/**
 * The PIN a signature request carries: its length only (keys enrolled before PINs were digits only
 * still sign; whether it is right is the signer's to say).
 */
export const SigningPinSchema = z
  .string()
  .min(SIGNING_PIN_RULE.minDigits, `pin has at least ${SIGNING_PIN_RULE.minDigits} digits`)
  .max(SIGNING_PIN_RULE.maxDigits, `pin has at most ${SIGNING_PIN_RULE.maxDigits} digits`);

export type Lang = 'zh-CN' | 'en';
export interface Term {
  zh: string;
  en: string;
}

export type TemplateId = 'ecg' | 'xray' | 'ultrasound' | 'generic';

export interface TemplateField {
  key: string;
  label: Term;
  kind: 'text' | 'number' | 'choice';
  unit?: string;
  /** Choices: the stored value is `value`; the PDF prints the term. Free text is allowed besides them. */
  options?: readonly { value: string; term: Term }[];
  /** Where the field belongs on the page; ultrasound fields are organ by organ. */
  group?: Term;
}

export interface ReportTemplate {
  id: TemplateId;
  title: Term;
  /** DICOM Modality values this template is for. */
  modalities: readonly string[];
  fields: readonly TemplateField[];
  /** Label of the free-text findings and the impression sections. */
  findingsLabel: Term;
  impressionLabel: Term;
}

const t = (zh: string, en: string): Term => ({ zh, en });
const opt = (value: string, zh: string, en: string) => ({ value, term: t(zh, en) });

const ORGAN_STATES = [opt('normal', '未见明显异常', 'no abnormality'), opt('abnormal', '异常，见描述', 'abnormal, see findings'), opt('not-seen', '未显示', 'not visualised')];

export const REPORT_TEMPLATES: Readonly<Record<TemplateId, ReportTemplate>> = Object.freeze({
  ecg: {
    id: 'ecg',
    title: t('心电图诊断报告', 'Electrocardiogram report'),
    modalities: ['ECG', 'HD'],
    findingsLabel: t('心电图所见', 'ECG findings'),
    impressionLabel: t('心电图诊断', 'ECG diagnosis'),
    fields: [
      {
        key: 'rhythm',
        label: t('心律', 'Rhythm'),
        kind: 'choice',
        options: [
          opt('sinus', '窦性心律', 'sinus rhythm'),
          opt('sinus-tachycardia', '窦性心动过速', 'sinus tachycardia'),
          opt('sinus-bradycardia', '窦性心动过缓', 'sinus bradycardia'),
          opt('atrial-fibrillation', '心房颤动', 'atrial fibrillation'),
          opt('atrial-flutter', '心房扑动', 'atrial flutter'),
          opt('paced', '起搏心律', 'paced rhythm'),
          opt('av-block-3', '三度房室传导阻滞', 'third-degree AV block'),
          opt('ventricular-tachycardia', '室性心动过速', 'ventricular tachycardia'),
        ],
      },
      { key: 'heartRate', label: t('心率', 'Heart rate'), kind: 'number', unit: '次/分 bpm' },
      {
        key: 'axis',
        label: t('电轴', 'Axis'),
        kind: 'choice',
        options: [
          opt('normal', '电轴正常', 'normal axis'),
          opt('left', '电轴左偏', 'left axis deviation'),
          opt('right', '电轴右偏', 'right axis deviation'),
          opt('extreme', '电轴极度偏移', 'extreme axis deviation'),
        ],
      },
      { key: 'prMs', label: t('PR 间期', 'PR interval'), kind: 'number', unit: 'ms' },
      { key: 'qrsMs', label: t('QRS 时限', 'QRS duration'), kind: 'number', unit: 'ms' },
      { key: 'qtMs', label: t('QT 间期', 'QT interval'), kind: 'number', unit: 'ms' },
      { key: 'qtcMs', label: t('QTc 间期', 'QTc interval'), kind: 'number', unit: 'ms' },
      { key: 'stT', label: t('ST-T 改变', 'ST-T changes'), kind: 'text' },
    ],
  },
  xray: {
    id: 'xray',
    title: t('X线检查报告', 'X-ray report'),
    modalities: ['CR', 'DX', 'DR', 'RF', 'MG', 'PX'],
    findingsLabel: t('影像所见', 'Findings'),
    impressionLabel: t('诊断意见', 'Impression'),
    fields: [
      { key: 'exam', label: t('检查部位及方法', 'Examination'), kind: 'text' },
      {
        key: 'projection',
        label: t('体位', 'Projection'),
        kind: 'choice',
        options: [opt('pa', '后前位', 'PA'), opt('ap', '前后位', 'AP'), opt('lateral', '侧位', 'lateral'), opt('pa-lateral', '正侧位', 'PA and lateral')],
      },
      {
        key: 'quality',
        label: t('图像质量', 'Image quality'),
        kind: 'choice',
        options: [opt('good', '良好', 'good'), opt('adequate', '尚可', 'adequate'), opt('poor', '差，建议复查', 'poor, repeat advised')],
      },
    ],
  },
  ultrasound: {
    id: 'ultrasound',
    title: t('超声检查报告', 'Ultrasound report'),
    modalities: ['US', 'IVUS'],
    findingsLabel: t('超声所见', 'Findings'),
    impressionLabel: t('超声提示', 'Impression'),
    fields: [
      { key: 'exam', label: t('检查项目', 'Examination'), kind: 'text' },
      { key: 'liver', label: t('肝脏', 'Liver'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'gallbladder', label: t('胆囊', 'Gallbladder'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'pancreas', label: t('胰腺', 'Pancreas'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'spleen', label: t('脾脏', 'Spleen'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'kidneys', label: t('双肾', 'Kidneys'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'bladder', label: t('膀胱', 'Bladder'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'uterusAdnexa', label: t('子宫及附件', 'Uterus and adnexa'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
      { key: 'thyroid', label: t('甲状腺', 'Thyroid'), kind: 'choice', options: ORGAN_STATES, group: t('脏器', 'Organs') },
    ],
  },
  generic: {
    id: 'generic',
    title: t('远程诊断报告', 'Remote diagnosis report'),
    modalities: [],
    findingsLabel: t('检查所见', 'Findings'),
    impressionLabel: t('诊断意见', 'Impression'),
    fields: [],
  },
});

/** The template for a DICOM Modality (generic when none is specific). */
export function templateForModality(modality: string | null | undefined): ReportTemplate {
  const m = (modality ?? '').toUpperCase();
  for (const id of ['ecg', 'xray', 'ultrasound'] as const) if (REPORT_TEMPLATES[id].modalities.includes(m)) return REPORT_TEMPLATES[id];
  return REPORT_TEMPLATES.generic;
}

/** Labels of the PDF and of the UI, both languages. */
export const REPORT_LABELS = Object.freeze({
  document: t('远程诊疗意见报告', 'Tele-diagnosis report'),
  consortium: t('医共体', 'Consortium'),
  clinic: t('送检机构', 'Referring clinic'),
  patient: t('患者信息', 'Patient'),
  patientName: t('姓名', 'Name'),
  patientId: t('患者编号', 'Patient ID'),
  sex: t('性别', 'Sex'),
  birthDate: t('出生日期', 'Date of birth'),
  study: t('检查信息', 'Study'),
  caseId: t('病例号', 'Case'),
  modality: t('检查类型', 'Modality'),
  studyUid: t('检查实例 UID', 'Study Instance UID'),
  instances: t('已阅图像', 'Instances read'),
  structured: t('结构化描述', 'Structured findings'),
  advisory: t('系统自动测量（仅供参考）', 'Computed measurements (advisory only)'),
  advisoryFlags: t('自动提示', 'Automatic flags'),
  critical: t('危急值', 'CRITICAL RESULT'),
  criticalNote: t('请立即通知临床医生并复述确认', 'Notify the treating clinician now and read back'),
  signer: t('报告医师', 'Reporting physician'),
  licence: t('执业医师编号', 'Licence No.'),
  institution: t('诊断机构', 'Institution'),
  signedAt: t('签署时间', 'Signed at'),
  version: t('版本', 'Version'),
  supersedes: t('取代版本', 'Supersedes version'),
  amendment: t('更正/补充说明', 'Amendment'),
  amendmentReason: t('原因', 'Reason'),
  verification: t('验证码', 'Verification code'),
  verificationNote: t(
    '本报告经报告医师数字签名（ES256）。使用 teleread verify 或 openssl 可离线验证。',
    'Digitally signed by the reporting physician (ES256); verify offline with teleread verify or openssl.',
  ),
  page: t('页', 'page'),
  missingGlyphs: t('无法显示的字符（以方框代替）', 'Not printable in this font'),
  signature: t('电子签名', 'Digital signature'),
  sexM: t('男', 'male'),
  sexF: t('女', 'female'),
  sexO: t('其他', 'other'),
  addendum: t('补充报告', 'Addendum'),
  correction: t('更正报告', 'Correction'),
});

/** A human-readable label in both languages, primary language first. */
export const bilingual = (term: Term, lang: Lang = 'zh-CN') => (lang === 'en' ? `${term.en} ${term.zh}` : `${term.zh} ${term.en}`);

export const AMENDMENT_KINDS = ['addendum', 'correction'] as const;
export type AmendmentKind = (typeof AMENDMENT_KINDS)[number];

/** POST /api/cases/{caseId}/report/amend: a new signed version n+1; the signed version n is never changed. */
export const AmendSchema = z.object({
  pin: SigningPinSchema,
  kind: z.enum(AMENDMENT_KINDS),
  reason: z.string().trim().min(1, 'an amendment needs a reason').max(2000),
  findings: z.string().max(20_000),
  impression: z.string().trim().min(1).max(10_000),
  critical: z.boolean().default(false),
  fields: z.record(z.string().max(64), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()])).optional(),
  language: z.enum(['zh-CN', 'en']).default('zh-CN'),
});
export type AmendBody = z.infer<typeof AmendSchema>;

/** POST /api/cases/{caseId}/report/versions/{n}/acknowledge: the clinic's receipt of one version. */
export const AcknowledgeVersionSchema = z
  .object({
    receivedBy: z.string().trim().min(1).max(200).optional(),
    readBack: z.string().trim().min(1).max(4000).optional(),
  })
  .default({});

export type FieldValue = string | number | boolean | null;

/** What the physician attests; signed first (contentSignature). */
export interface ReportContent {
  type: 'teleread.report';
  schemaVersion: 2;
  caseId: string;
  clinic: { id: string; name: string };
  consortium: string;
  patient: { id: string; name: string; sex?: string; birthDate?: string };
  StudyInstanceUID: string;
  Modality: string;
  instances: { SOPInstanceUID: string; sha256: string }[];
  template: TemplateId;
  findings: string;
  impression: string;
  critical: boolean;
  fields: Record<string, FieldValue>;
  language: Lang;
  /** Measurements the system computed; advisory, never the physician's statement. */
  advisoryMeasurements?: Record<string, number | null>;
  automaticFlags?: string[];
  signer: { id: string; name: string; licenceNumber: string; institution: string };
  signedAt: string;
  version: number;
  supersedes: number | null;
  amendment?: { kind: AmendmentKind; reason: string };
}

/** The document `{report, jws}` returns: content + its signature + the PDF's SHA-256 (hex). */
export interface SignedReportDocument extends ReportContent {
  contentSignature: string;
  pdfSha256: string;
}

/** Members of the report that are not part of the signed content. */
export const ENVELOPE_MEMBERS = ['contentSignature', 'pdfSha256'] as const;

/** The content a report's contentSignature covers: the report without its envelope members. */
export function contentOf(report: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(report)) if (!(ENVELOPE_MEMBERS as readonly string[]).includes(k)) out[k] = v;
  return out;
}

/** Characters of the content signature printed in the verification code (72 bits). */
export const VERIFICATION_PREFIX_CHARS = 12;

/**
 * The short verification code printed on the PDF: `<caseId>/v<version>/<first 12 base64url characters
 * of the content signature's signature part>`. It names the report and lets a reader of the paper
 * check it against the signed report (whose contentSignature it must prefix).
 */
export function verificationCode(caseId: string, version: number, contentSignature: string): string {
  const sig = contentSignature.split('.')[2] ?? '';
  return `${caseId}/v${version}/${sig.slice(0, VERIFICATION_PREFIX_CHARS)}`;
}
