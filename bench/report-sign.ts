/**
 * Sign + PDF time per modality: what `POST /api/cases/{caseId}/report/sign` spends on the report
 * itself — the content signature, the PDF render (pdfkit + subset Noto Sans CJK SC) and its SHA-256,
 * and the report signature — with the production scrypt cost (N = 2^15) that unseals the signer's key
 * for each signature. Storage and HTTP are not included.
 *
 *   npx tsx bench/report-sign.ts [--n=40]
 *
 * `benchReportSigning()` is what `npm run bench` calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sealReport } from '../shared/application/reports.ts';
import type { ReportContent, TemplateId } from '../shared/contracts/report.ts';
import type { SealedSignerKey, SignerKeyStore } from '../shared/ports/signer.ts';
import { loadCjkFont } from '../shared/reports/font.ts';
import { PdfReportRenderer } from '../shared/reports/pdf.ts';
import { canonicalBytes } from '../shared/signing/canonical.ts';
import { DEFAULT_SCRYPT, SealedKeyReportSigner } from '../shared/signing/sealed-key-signer.ts';

class MemoryKeys implements SignerKeyStore {
  private rows: SealedSignerKey[] = [];
  async put(k: SealedSignerKey) {
    this.rows.push(k);
  }
  async current(signerId: string) {
    return this.rows.filter((r) => r.signerId === signerId).at(-1) ?? null;
  }
  async all() {
    return this.rows;
  }
}

const PIN = '246810';

function content(template: TemplateId, modality: string, i: number): ReportContent {
  const fields: Record<TemplateId, ReportContent['fields']> = {
    ecg: { rhythm: 'sinus', heartRate: 70 + (i % 20), axis: 'normal', prMs: 160, qrsMs: 88, qtMs: 380, qtcMs: 412, stT: '未见明显异常' },
    xray: { exam: '胸部正位', projection: 'pa', quality: 'good' },
    ultrasound: { exam: '腹部超声', liver: 'normal', gallbladder: 'abnormal', pancreas: 'normal', spleen: 'normal', kidneys: 'normal', bladder: 'normal' },
    generic: {},
  };
  const findings: Record<TemplateId, string> = {
    ecg: '窦性心律，心率 76 次/分。PR 间期 160 ms，QRS 时限 88 ms，QTc 412 ms。各导联 ST 段未见明显偏移，T 波直立。',
    xray: '双肺纹理清晰，走行自然，未见明显实质性病变。心影大小形态正常。纵隔居中。双侧膈面光整，肋膈角锐利。',
    ultrasound: '肝脏大小形态正常，包膜光整，实质回声均匀。胆囊大小正常，壁毛糙，腔内可见一强回声团，约 8×6 mm，后伴声影，随体位改变移动。胰腺、脾脏、双肾未见明显异常。',
    generic: '',
  };
  return {
    type: 'teleread.report',
    schemaVersion: 2,
    caseId: `case-BENCH${String(i).padStart(6, '0')}`,
    clinic: { id: 'clinic-a', name: '东关镇卫生院' },
    consortium: '示范县医共体',
    patient: { id: `P-${i}`, name: '张^三', sex: 'M', birthDate: '1960-05-01' },
    StudyInstanceUID: `1.2.826.0.1.3680043.8.498.${i}`,
    Modality: modality,
    instances: [{ SOPInstanceUID: `1.2.826.0.1.3680043.8.498.${i}.1`, sha256: 'ab'.repeat(32) }],
    template,
    findings: findings[template],
    impression: template === 'ecg' ? '正常心电图' : template === 'xray' ? '心肺膈未见明显异常。' : '胆囊结石。',
    critical: i % 10 === 0,
    fields: fields[template],
    language: 'zh-CN',
    ...(template === 'ecg' ? { advisoryMeasurements: { heartRate: 76, qrsMs: 90, qtcMs: 415 }, automaticFlags: [] } : {}),
    signer: { id: 'reader', name: '心电医师 李明', licenceNumber: 'DEMO-110000000000001', institution: '示范县人民医院' },
    signedAt: new Date(Date.UTC(2026, 10, 23, 1, 0, i)).toISOString(),
    version: 1,
    supersedes: null,
  };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

export async function benchReportSigning(opts: { n?: number } = {}): Promise<Record<string, { p50: number; p99: number; n: number }>> {
  const n = opts.n ?? 40;
  const dir = mkdtempSync(join(tmpdir(), 'teleread-bench-font-'));
  try {
    const renderer = new PdfReportRenderer({ font: loadCjkFont({ cacheDir: dir }) });
    const signer = new SealedKeyReportSigner(new MemoryKeys(), { scrypt: DEFAULT_SCRYPT });
    await signer.enrol('reader', PIN);
    // Warm up: first layout of the face, JIT.
    for (let i = 0; i < 3; i++) await sealReport({ signer, renderer }, canonicalBytes, 'reader', PIN, content('ecg', 'ECG', i));
    const out: Record<string, { p50: number; p99: number; n: number }> = {};
    for (const [template, modality] of [['ecg', 'ECG'], ['xray', 'CR'], ['ultrasound', 'US']] as const) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await sealReport({ signer, renderer }, canonicalBytes, 'reader', PIN, content(template, modality, i));
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      out[template] = { p50: round1(pct(times, 50)), p99: round1(pct(times, 99)), n };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Render only and sign only, to show where the time goes (standalone runs print it). */
async function breakdown(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'teleread-bench-font-'));
  try {
    const renderer = new PdfReportRenderer({ font: loadCjkFont({ cacheDir: dir }) });
    const signer = new SealedKeyReportSigner(new MemoryKeys(), { scrypt: DEFAULT_SCRYPT });
    await signer.enrol('reader', PIN);
    const render: number[] = [];
    const sign: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = content('ultrasound', 'US', i);
      let t0 = performance.now();
      await renderer.render(c, { verificationCode: `${c.caseId}/v1/AAAAAAAAAAAA`, kid: 'k' });
      render.push(performance.now() - t0);
      t0 = performance.now();
      await signer.signDetached('reader', PIN, canonicalBytes(c));
      sign.push(performance.now() - t0);
    }
    render.sort((a, b) => a - b);
    sign.sort((a, b) => a - b);
    return { renderP50: round1(pct(render, 50)), oneSignatureP50: round1(pct(sign, 50)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const nArg = process.argv.find((a) => a.startsWith('--n='));
  const n = nArg ? Number(nArg.slice(4)) : 40;
  const r = await benchReportSigning({ n });
  console.log('sign + PDF per report (ms), production scrypt N=2^15, two signatures per report:');
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(11)} p50 ${String(v.p50).padStart(7)}  p99 ${String(v.p99).padStart(7)}  n ${v.n}`);
  const b = await breakdown(Math.min(n, 20));
  console.log(`  breakdown (ultrasound): PDF render p50 ${b.renderP50} ms; one signature (scrypt unseal + ES256) p50 ${b.oneSignatureP50} ms`);
}
