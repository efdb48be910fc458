/**
 * `teleread gateway`: composes the DICOM door (SCP), the spool, TeleRead's own inspector (worker
 * threads, the same checks ingest makes) and the sender. Every instance is validated at the door:
 * a good one is spooled under its study and answered Success; a bad one is answered with a failure
 * status and kept in the spool's quarantine with its reason.
 */
import { createDicomInspector } from '../shared/dicom/inspector.ts';
import type { Logger } from '../shared/ports/logger.ts';
import type { StudyInspector } from '../shared/ports/study-inspector.ts';
import type { GatewayConfig } from './config.ts';
import { fileSource } from './file-source.ts';
import { loadRules } from './rules.ts';
import { startScp, STORE_STATUS, type StoredInstance } from './scp.ts';
import { Sender, type SenderHooks } from './sender.ts';
import { Spool } from './spool.ts';
import { TeleReadClient } from './teleread-client.ts';

/**
 * DIMSE status for a refusal code of the inspector: the content is not what its SOP class promises
 * (A900), not something TeleRead reads at all (0122), or cannot be parsed (C000).
 */
export function storeStatusFor(code: string): number {
  if (code === 'DICOM.UNSUPPORTED_SOP_CLASS' || code === 'STUDY.UNSUPPORTED_MODALITY') return STORE_STATUS.SopClassNotSupported;
  if (
    [
      'DICOM.MISSING_ATTRIBUTE',
      'DICOM.INVALID_VALUE',
      'DICOM.INVALID_GEOMETRY',
      'DICOM.PIXEL_DATA_MISSING',
      'DICOM.PIXEL_DATA_LENGTH_MISMATCH',
      'DICOM.PIXEL_DATA_TRUNCATED',
      'DICOM.WAVEFORM_INVALID',
      'GATEWAY.COMMAND_MISMATCH',
    ].includes(code)
  )
    return STORE_STATUS.DataSetDoesNotMatchSopClass;
  return STORE_STATUS.CannotUnderstand;
}

export interface GatewayHandle {
  /** The DICOM port actually bound. */
  port: number;
  spool: Spool;
  /** Runs one sender pass now (seal stable studies, send what is due). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  log: Logger;
  fetch?: typeof fetch;
  hooks?: SenderHooks;
  /** Sender pass interval (default: a quarter of the stable time, 250 ms to 1 s). */
  tickMs?: number;
  now?: () => Date;
  random?: () => number;
  inspector?: StudyInspector;
}

/** Starts the gateway; resolves once the DICOM port listens. */
export async function startGateway(cfg: GatewayConfig, opts: GatewayOptions): Promise<GatewayHandle> {
  const { log } = opts;
  const now = opts.now ?? (() => new Date());
  const rules = await loadRules(cfg.rules);
  const spool = await Spool.open(cfg.spool, now);
  const inspector = opts.inspector ?? createDicomInspector({ workers: 1 });
  const modalities = new Set(cfg.modalities.map((m) => m.toUpperCase()));

  const refuse = async (i: StoredInstance, code: string, message: string) => {
    const status = storeStatusFor(code);
    const id = await spool.quarantine(i.path, {
      code,
      message,
      at: now().toISOString(),
      callingAeTitle: i.callingAeTitle,
      SOPClassUID: i.SOPClassUID,
      TransferSyntaxUID: i.TransferSyntaxUID,
      size: i.size,
      status,
    });
    log.warn('instance refused and quarantined', { quarantineId: id, code, status: `0x${status.toString(16).padStart(4, '0')}`, callingAeTitle: i.callingAeTitle });
    return { status, comment: code };
  };

  const inflight = new Set<Promise<unknown>>();
  let scp: Awaited<ReturnType<typeof startScp>>;
  try {
    scp = await startScp({
      port: cfg.port,
      aet: cfg.aet,
      log,
      handler: {
        tempPath: () => spool.incomingPath(),
        stored(i) {
          // Tracked so that stopping waits for it: closing the inspector under it would refuse a good file.
          const p = store(i);
          inflight.add(p);
          void p.finally(() => inflight.delete(p)).catch(() => undefined);
          return p;
        },
      },
    });
  } catch (e) {
    await inspector.close();
    await spool.close();
    throw e;
  }

  async function store(i: StoredInstance): Promise<{ status: number; comment?: string }> {
    const r = await inspector.inspect(fileSource(i.path, i.size));
    if (!r.ok) return refuse(i, r.code, r.message);
    const m = r.metadata;
    if (m.instance.SOPInstanceUID !== i.SOPInstanceUID || m.instance.SOPClassUID !== i.SOPClassUID) {
      return refuse(i, 'GATEWAY.COMMAND_MISMATCH', 'The dataset’s SOPClassUID/SOPInstanceUID differ from the C-STORE request’s Affected SOP Class/Instance UID.');
    }
    const modality = m.Modality.trim().toUpperCase();
    if (!modalities.has(modality)) {
      return refuse(i, 'STUDY.UNSUPPORTED_MODALITY', `Modality ${modality || '(none)'} is not read through this gateway (it accepts ${[...modalities].join(', ')}).`);
    }
    const added = await spool.addInstance(i.path, {
      StudyInstanceUID: m.study.StudyInstanceUID,
      SOPInstanceUID: i.SOPInstanceUID,
      SOPClassUID: i.SOPClassUID,
      TransferSyntaxUID: i.TransferSyntaxUID,
      Modality: modality,
      BodyPartExamined: m.BodyPartExamined?.trim() || undefined,
      callingAeTitle: i.callingAeTitle,
      size: i.size,
    });
    log.info('instance spooled', { entryId: added.entryId, studyKey: added.studyKey, instances: added.instances, bytes: i.size, Modality: modality });
    return { status: STORE_STATUS.Success };
  }

  const sender = new Sender(
    {
      spool,
      client: new TeleReadClient(cfg.api, cfg.username, cfg.password, opts.fetch),
      rules,
      inspector,
      log,
      now,
      random: opts.random ?? Math.random,
      hooks: opts.hooks,
    },
    {
      stableMs: cfg.stableSeconds * 1000,
      retryBaseMs: cfg.retryBaseSeconds * 1000,
      retryMaxMs: cfg.retryMaxSeconds * 1000,
      confirmTimeoutMs: cfg.confirmTimeoutSeconds * 1000,
      concurrency: 2,
    },
  );
  sender.start(opts.tickMs ?? Math.max(250, Math.min(1000, (cfg.stableSeconds * 1000) / 4)));
  log.info('gateway listening', { port: scp.port, aet: cfg.aet, api: cfg.api, stableSeconds: cfg.stableSeconds, rules: rules.rules.length, pending: spool.list().length });

  let closing: Promise<void> | null = null;
  return {
    port: scp.port,
    spool,
    flush: () => sender.tick(),
    close: () =>
      (closing ??= (async () => {
        await scp.close();
        await Promise.allSettled([...inflight]);
        await sender.stop();
        if (!opts.inspector) await inspector.close();
        await spool.close();
        log.info('gateway stopped', {});
      })()),
  };
}
