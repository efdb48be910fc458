/** Drawing of ECG traces on a millimetre grid. All geometry is in mm, converted with the screen calibration. */

export interface Lead {
  name: string;
  mv: ArrayLike<number>;
  fs: number;
}

export interface EcgScale {
  pxPerMm: number; // CSS px per mm (calibrated)
  speed: number; // mm/s
  gain: number; // mm/mV
  dpr: number;
}

export interface Row {
  /** Segments side by side: lead, start time (s), duration (s). */
  cells: { lead: Lead; t0: number; dur: number }[];
}

export interface Layout {
  rows: Row[];
  widthMm: number;
  rowMm: number;
  leftMm: number;
  calPulse: boolean;
}

const STANDARD_3x4 = [
  ['I', 'aVR', 'V1', 'V4'],
  ['II', 'aVL', 'V2', 'V5'],
  ['III', 'aVF', 'V3', 'V6'],
];

const norm = (s: string) => s.replace(/^lead\s*/i, '').replace(/\s+/g, '').toUpperCase();

export function layout(leads: Lead[], speed: number, gain: number, opts: { calPulse?: boolean } = {}): Layout {
  const by = new Map(leads.map((l) => [norm(l.name), l]));
  const duration = Math.min(...leads.map((l) => l.mv.length / l.fs));
  const rowMm = Math.max(20, 3 * gain);
  const leftMm = opts.calPulse === false ? 5 : 10;
  const has12 = STANDARD_3x4.flat().every((n) => by.has(norm(n)));
  if (has12) {
    // 4 columns of 2.5 s at 25 mm/s (1.25 s at 50 mm/s), then lead II over the whole width.
    const colS = Math.min(2.5 * (25 / speed), duration / 4);
    const rows: Row[] = STANDARD_3x4.map((names) => ({ cells: names.map((n, i) => ({ lead: by.get(norm(n))!, t0: i * colS, dur: colS })) }));
    const rhythm = by.get('II')!;
    rows.push({ cells: [{ lead: rhythm, t0: 0, dur: colS * 4 }] });
    return { rows, widthMm: leftMm + colS * 4 * speed + 5, rowMm, leftMm, calPulse: opts.calPulse !== false };
  }
  const dur = Math.min(duration, 10 * (25 / speed));
  return {
    rows: leads.map((l) => ({ cells: [{ lead: l, t0: 0, dur }] })),
    widthMm: leftMm + dur * speed + 5,
    rowMm,
    leftMm,
    calPulse: opts.calPulse !== false,
  };
}

export function canvasSize(l: Layout, s: EcgScale): { cssW: number; cssH: number } {
  return { cssW: Math.ceil(l.widthMm * s.pxPerMm), cssH: Math.ceil((l.rows.length * l.rowMm + 4) * s.pxPerMm) };
}

export function drawEcg(ctx: CanvasRenderingContext2D, l: Layout, s: EcgScale, calipers: number[] = []): void {
  const k = s.pxPerMm * s.dpr; // device px per mm
  const W = ctx.canvas.width;
  const H = ctx.canvas.height;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  // Grid: 1 mm and 5 mm lines.
  for (let mm = 0; mm * k <= W; mm++) {
    ctx.fillStyle = mm % 5 === 0 ? '#f08080' : '#fbd3d3';
    ctx.fillRect(Math.round(mm * k), 0, mm % 5 === 0 ? Math.max(1, s.dpr) : 1, H);
  }
  for (let mm = 0; mm * k <= H; mm++) {
    ctx.fillStyle = mm % 5 === 0 ? '#f08080' : '#fbd3d3';
    ctx.fillRect(0, Math.round(mm * k), W, mm % 5 === 0 ? Math.max(1, s.dpr) : 1);
  }
  ctx.strokeStyle = '#000';
  ctx.fillStyle = '#000';
  ctx.lineWidth = Math.max(1, 1.2 * s.dpr);
  ctx.lineJoin = 'round';
  ctx.font = `${Math.round(3 * k)}px sans-serif`;
  l.rows.forEach((row, r) => {
    const baseY = (2 + r * l.rowMm + l.rowMm * 0.6) * k;
    if (l.calPulse) {
      // 1 mV standardisation pulse, 0.2 s wide.
      const x0 = 2 * k;
      const w = 0.2 * s.speed * k;
      ctx.beginPath();
      ctx.moveTo(x0 - 1 * k, baseY);
      ctx.lineTo(x0, baseY);
      ctx.lineTo(x0, baseY - s.gain * k);
      ctx.lineTo(x0 + w, baseY - s.gain * k);
      ctx.lineTo(x0 + w, baseY);
      ctx.lineTo(x0 + w + 1 * k, baseY);
      ctx.stroke();
    }
    let x = l.leftMm * k;
    for (const c of row.cells) {
      const { lead } = c;
      const i0 = Math.floor(c.t0 * lead.fs);
      const n = Math.min(lead.mv.length - i0, Math.floor(c.dur * lead.fs));
      const dx = (s.speed * k) / lead.fs;
      ctx.fillStyle = '#1f4fa0'; // labels in blue: only the trace (and the pulse) is black
      ctx.fillText(lead.name, x + 1 * k, baseY - (l.rowMm * 0.45) * k);
      ctx.fillStyle = '#000';
      ctx.beginPath();
      for (let i = 0; i < n; i++) {
        const v = lead.mv[i0 + i]!;
        const px = x + i * dx;
        const py = baseY - (Number.isFinite(v) ? v : 0) * s.gain * k;
        if (i === 0) ctx.moveTo(px, py);
        else ctx.lineTo(px, py);
      }
      ctx.stroke();
      if (c !== row.cells[0]) {
        ctx.fillRect(x, baseY - 2 * k, Math.max(1, s.dpr), 4 * k); // lead change marker
      }
      x += c.dur * s.speed * k;
    }
  });
  ctx.strokeStyle = '#0050d0';
  ctx.lineWidth = Math.max(1, s.dpr);
  for (const cx of calipers) {
    ctx.beginPath();
    ctx.moveTo(cx * s.dpr, 0);
    ctx.lineTo(cx * s.dpr, H);
    ctx.stroke();
  }
}
