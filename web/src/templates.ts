/** Report templates per modality, in the report's language (Chinese terms first). */
export interface Template {
  id: string;
  zh: { label: string; findings: string; impression: string };
  en: { label: string; findings: string; impression: string };
}

export const TEMPLATES: Record<string, Template[]> = {
  ECG: [
    {
      id: 'ecg-normal',
      zh: {
        label: '正常心电图',
        findings: '窦性心律，心率 {heartRate} 次/分。PR 间期 {prMs} ms，QRS 时限 {qrsMs} ms，QT/QTc {qtMs}/{qtcMs} ms。ST-T 未见明显异常。',
        impression: '1. 窦性心律\n2. 正常心电图',
      },
      en: {
        label: 'Normal ECG',
        findings: 'Sinus rhythm, rate {heartRate} bpm. PR {prMs} ms, QRS {qrsMs} ms, QT/QTc {qtMs}/{qtcMs} ms. No significant ST-T change.',
        impression: '1. Sinus rhythm\n2. Normal ECG',
      },
    },
    {
      id: 'ecg-stemi',
      zh: { label: 'ST 段抬高（危急值）', findings: '窦性心律，心率 {heartRate} 次/分。导联 ST 段抬高 ≥ 0.2 mV，对应导联 ST 段压低。', impression: '急性 ST 段抬高型心肌梗死可能（危急值），请立即处理。' },
      en: { label: 'ST elevation (critical)', findings: 'Sinus rhythm, rate {heartRate} bpm. ST elevation ≥ 0.2 mV in contiguous leads with reciprocal depression.', impression: 'Possible acute STEMI (critical result): act now.' },
    },
  ],
  CR: [
    {
      id: 'chest-normal',
      zh: {
        label: '胸部正位（正常）',
        findings: '胸廓对称，气管居中。双肺纹理清晰，走行自然，未见明显实质性病变。心影大小、形态未见异常。双侧膈面光整，肋膈角锐利。',
        impression: '胸部正位片未见明显异常。',
      },
      en: {
        label: 'Chest PA (normal)',
        findings: 'Symmetric thorax, trachea central. Lung markings clear, no consolidation. Normal cardiac silhouette. Diaphragms smooth, costophrenic angles sharp.',
        impression: 'No abnormality on the chest radiograph.',
      },
    },
  ],
  US: [
    {
      id: 'abdomen-normal',
      zh: {
        label: '腹部超声（正常）',
        findings: '肝脏大小、形态正常，包膜光整，实质回声均匀。胆囊大小正常，壁光滑，腔内未见异常回声。胰腺、脾脏及双肾未见明显异常。',
        impression: '肝、胆、胰、脾、双肾超声检查未见明显异常。',
      },
      en: {
        label: 'Abdomen (normal)',
        findings: 'Liver of normal size and shape, smooth capsule, homogeneous echotexture. Gallbladder normal. Pancreas, spleen and both kidneys unremarkable.',
        impression: 'Unremarkable abdominal ultrasound.',
      },
    },
    {
      id: 'echo-normal',
      zh: { label: '心脏超声（正常）', findings: '各房室大小正常，室壁厚度及运动正常，各瓣膜形态及启闭未见异常。', impression: '心脏结构及功能未见明显异常。' },
      en: { label: 'Echocardiogram (normal)', findings: 'Chambers of normal size, normal wall thickness and motion, valves normal.', impression: 'Normal cardiac structure and function.' },
    },
  ],
};
TEMPLATES.DX = TEMPLATES.CR!;

export function templatesFor(modality: string | null): Template[] {
  return TEMPLATES[modality ?? ''] ?? [];
}

export function fill(text: string, values: Record<string, number | null | undefined>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => {
    const v = values[k];
    return typeof v === 'number' ? String(Math.round(v)) : '—';
  });
}
