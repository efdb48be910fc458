/**
 * The DICOM door of the gateway: a C-STORE / C-ECHO SCP (dcmjs-dimse). It accepts associations
 * addressed to the configured AE title only, accepts the storage SOP classes TeleRead reads (ECG
 * waveforms, CR, DX, US, Secondary Capture) with the transfer syntaxes TeleRead's inspector reads,
 * and streams each C-STORE dataset straight to a spool file behind a Part 10 header, in the transfer
 * syntax the device used (no transcoding, bounded memory). The C-STORE response waits for the
 * handler: the device hears success only once the instance is durably in the spool.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { AddressInfo, Server as NetServer } from 'node:net';
import dimse from 'dcmjs-dimse';
import { ECG_WAVEFORM_CLASSES } from '../shared/dicom/sop-classes.ts';
import { SUPPORTED_TRANSFER_SYNTAXES } from '../shared/dicom/safe-parse.ts';
import { EXPLICIT_VR_LITTLE_ENDIAN, encodeDataset, type Item } from '../shared/synth/dicom-writer.ts';
import type { Logger } from '../shared/ports/logger.ts';

const { Dataset, Scp, Server } = dimse;
const { CEchoResponse, CStoreResponse } = dimse.responses;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason } = dimse.constants;
type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;

export const VERIFICATION_SOP_CLASS = '1.2.840.10008.1.1';
const MAX_PDU_BYTES = 128 * 1024;

/** Storage SOP classes accepted at the door (everything else: abstract syntax not supported). */
export const STORAGE_SOP_CLASSES: Record<string, string> = {
  ...ECG_WAVEFORM_CLASSES,
  '1.2.840.10008.5.1.4.1.1.1': 'Computed Radiography Image',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'Digital X-Ray Image - For Processing',
  '1.2.840.10008.5.1.4.1.1.6.1': 'Ultrasound Image',
  '1.2.840.10008.5.1.4.1.1.3.1': 'Ultrasound Multi-frame Image',
  // Retired in 1996, still written by old township carts; TeleRead reads them like the current ones.
  '1.2.840.10008.5.1.4.1.1.6': 'Ultrasound Image (Retired)',
  '1.2.840.10008.5.1.4.1.1.3': 'Ultrasound Multi-frame Image (Retired)',
  // Screen captures and film digitisers; the Modality inside decides whether TeleRead reads it.
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image',
};

/** Exactly the transfer syntaxes TeleRead's inspector reads (shared/dicom/safe-parse.ts). */
export const TRANSFER_SYNTAXES = new Set(Object.keys(SUPPORTED_TRANSFER_SYNTAXES));

/** C-STORE statuses of PS3.4 Annex B.2.3 used here. */
export const STORE_STATUS = {
  Success: 0x0000,
  /** Refused: SOP Class not supported (e.g. a Secondary Capture of a modality TeleRead does not read). */
  SopClassNotSupported: 0x0122,
  /** Refused: out of resources (the spool could not be written). */
  OutOfResources: 0xa700,
  /** Error: Data Set does not match SOP Class. */
  DataSetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand. */
  CannotUnderstand: 0xc000,
} as const;

/** ImplementationClassUID written in the spool files' meta header: the 2.25 form of UUID 9e77087f-730c-4d73-bb36-ff66757dc4d5. */
export const GATEWAY_IMPLEMENTATION_CLASS_UID = '2.25.210636079017041469927905968987647624405';
export const GATEWAY_IMPLEMENTATION_VERSION = 'TELEREAD_GW_1';

export interface StoredInstance {
  path: string;
  size: number;
  callingAeTitle: string;
  /** From the C-STORE command (AffectedSOPClassUID / AffectedSOPInstanceUID). */
  SOPClassUID: string;
  SOPInstanceUID: string;
  TransferSyntaxUID: string;
}

export interface StoreHandler {
  /** A temp path for an incoming dataset (the SCP writes and fsyncs it). */
  tempPath(): string;
  /** The dataset is on disk as a Part 10 file; answer the DIMSE status (after moving or quarantining it). */
  stored(i: StoredInstance): Promise<{ status: number; comment?: string }>;
  /** Writing failed (disk full, aborted association): the temp file is removed by the SCP. */
  failed?(reason: string): void;
}

export interface ScpHandle {
  port: number;
  close(): Promise<void>;
}

/** The file meta group (PS3.10 §7.1) for a dataset received over the network, as Part 10 prefix bytes. */
export function part10Prefix(i: { SOPClassUID: string; SOPInstanceUID: string; TransferSyntaxUID: string; callingAeTitle: string }): Uint8Array {
  const meta: Item[] = [
    { tag: '00020001', vr: 'OB', value: Uint8Array.of(0x00, 0x01) },
    { tag: '00020002', vr: 'UI', value: i.SOPClassUID },
    { tag: '00020003', vr: 'UI', value: i.SOPInstanceUID },
    { tag: '00020010', vr: 'UI', value: i.TransferSyntaxUID },
    { tag: '00020012', vr: 'UI', value: GATEWAY_IMPLEMENTATION_CLASS_UID },
    { tag: '00020013', vr: 'SH', value: GATEWAY_IMPLEMENTATION_VERSION },
    ...(i.callingAeTitle ? [{ tag: '00020016', vr: 'AE', value: i.callingAeTitle }] : []),
  ];
  // Group 0002 is always Explicit VR Little Endian, whatever the data set's transfer syntax.
  const body = encodeDataset(meta, EXPLICIT_VR_LITTLE_ENDIAN);
  const length = encodeDataset([{ tag: '00020000', vr: 'UL', value: body.length }], EXPLICIT_VR_LITTLE_ENDIAN);
  const out = new Uint8Array(128 + 4 + length.length + body.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128); // 'DICM'
  out.set(length, 132);
  out.set(body, 132 + length.length);
  return out;
}

interface Incoming {
  path: string;
  stream: WriteStream;
  error: string | null;
  info: Omit<StoredInstance, 'path' | 'size'>;
}

/** Starts listening; resolves once the port is bound. */
export async function startScp(opts: { port: number; aet: string; handler: StoreHandler; log: Logger }): Promise<ScpHandle> {
  const { handler, log } = opts;
  // dcmjs-dimse logs association details and errors itself; the gateway logs what matters, without PHI.
  dimse.log.setLevel('silent');
  const calledAe = opts.aet.trim();

  class GatewayScp extends Scp {
    private association: Association | undefined;
    private readonly incoming = new Map<CStoreRequest, Incoming>();
    private readonly byStream = new Map<WriteStream, Incoming>();

    constructor(socket: ConstructorParameters<typeof Scp>[0], o: ConstructorParameters<typeof Scp>[1]) {
      super(socket, o);
      // An aborted or dropped association leaves half-received datasets: they were never acknowledged.
      this.on('close', () => this.discardAll('association closed'));
    }

    override associationRequested(association: Association) {
      this.association = association;
      const called = association.getCalledAeTitle().trim();
      const calling = association.getCallingAeTitle().trim();
      if (called !== calledAe) {
        log.warn('association rejected: called AE title not recognized', { calledAeTitle: called, callingAeTitle: calling });
        this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
        return;
      }
      // Larger P-DATA PDUs than the 16 KiB default: fewer, bigger writes for multi-MB images.
      association.setMaxPduLength(MAX_PDU_BYTES);
      let accepted = 0;
      for (const { id } of association.getPresentationContexts()) {
        const ctx = association.getPresentationContext(id);
        const abstract = ctx.getAbstractSyntaxUid();
        if (abstract !== VERIFICATION_SOP_CLASS && !Object.hasOwn(STORAGE_SOP_CLASSES, abstract)) {
          ctx.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
          continue;
        }
        // The sender lists its preferred syntax first: keep the first one TeleRead reads, so the
        // instance is stored as the device encoded it.
        const ts = ctx.getTransferSyntaxUids().find((t) => TRANSFER_SYNTAXES.has(t));
        if (ts) {
          ctx.setResult(PresentationContextResult.Accept, ts);
          accepted++;
        } else ctx.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
      }
      log.info('association accepted', { callingAeTitle: calling, contexts: association.getPresentationContexts().length, accepted });
      this.sendAssociationAccept();
    }

    override associationReleaseRequested() {
      this.sendAssociationReleaseResponse();
    }

    override cEchoRequest(request: CEchoRequest, callback: (r: InstanceType<typeof CEchoResponse>) => void) {
      const r = CEchoResponse.fromRequest(request);
      r.setStatus(STORE_STATUS.Success);
      callback(r);
    }

    override createStoreWritableStream(ctx: PresentationContext, request: CStoreRequest) {
      const info = {
        callingAeTitle: this.association?.getCallingAeTitle().trim() ?? '',
        SOPClassUID: request.getAffectedSopClassUid(),
        SOPInstanceUID: request.getAffectedSopInstanceUid(),
        TransferSyntaxUID: ctx.getAcceptedTransferSyntaxUid() ?? '',
      };
      const path = handler.tempPath();
      // flush: fsync before close, so 'close' means the bytes are on disk.
      const stream = createWriteStream(path, { flags: 'wx', mode: 0o600, flush: true });
      const inc: Incoming = { path, stream, error: null, info };
      stream.on('error', (e) => {
        inc.error ??= (e as NodeJS.ErrnoException).code ?? 'write failed';
        // A failed stream never drains, and the library waits for 'drain' after a fragment: release
        // it so the instance is answered (Out of Resources) instead of the device waiting forever.
        stream.emit('drain');
      });
      // Written before the library's first dataset chunk (same tick), so the file is Part 10.
      const prefix = part10Prefix(info);
      stream.write(prefix);
      this.incoming.set(request, inc);
      this.byStream.set(stream, inc);
      return stream;
    }

    override createDatasetFromStoreWritableStream(writable: unknown, _ctx: PresentationContext, callback: (d: InstanceType<typeof Dataset>) => void) {
      const inc = this.byStream.get(writable as WriteStream);
      // The dataset stays on disk: the request carries an empty one, the handler reads the file.
      const done = () => callback(new Dataset({}, inc?.info.TransferSyntaxUID));
      if (!inc) return done();
      if (inc.stream.closed) return done();
      inc.stream.once('close', done);
    }

    override cStoreRequest(request: CStoreRequest, callback: (r: InstanceType<typeof CStoreResponse>) => void) {
      const inc = this.incoming.get(request);
      this.incoming.delete(request);
      if (inc) this.byStream.delete(inc.stream);
      const answer = (status: number, comment?: string) => {
        const r = CStoreResponse.fromRequest(request);
        r.setStatus(status);
        // ErrorComment is LO: at most 64 characters.
        if (comment) r.setErrorComment(comment.slice(0, 64));
        callback(r);
      };
      if (!inc || inc.error) {
        const reason = inc?.error ?? 'no dataset';
        log.error('C-STORE dataset could not be written to the spool', { reason });
        handler.failed?.(reason);
        if (inc) void rm(inc.path, { force: true });
        return answer(STORE_STATUS.OutOfResources, 'Gateway spool write failed');
      }
      handler
        .stored({ ...inc.info, path: inc.path, size: inc.stream.bytesWritten })
        .then(
          (r) => answer(r.status, r.comment),
          (e: unknown) => {
            log.error('C-STORE handling failed', { error: e instanceof Error ? e.message : String(e) });
            void rm(inc.path, { force: true });
            answer(STORE_STATUS.OutOfResources, 'Gateway spool write failed');
          },
        );
    }

    override abort() {
      this.discardAll('association aborted');
      // PS3.8 §7.3.3.1: after an A-ABORT the acceptor closes the transport; dcmtk waits for it (ARTIM, 30 s).
      (this as unknown as { socket?: { end(): void } }).socket?.end();
    }

    private discardAll(reason: string) {
      for (const inc of this.byStream.values()) {
        inc.stream.destroy();
        void rm(inc.path, { force: true });
        handler.failed?.(reason);
      }
      this.byStream.clear();
      this.incoming.clear();
    }
  }

  const server = new Server(GatewayScp);
  server.on('networkError', (e: Error) => log.warn('DICOM network error', { error: e.message }));
  const net = await new Promise<NetServer>((resolve, reject) => {
    server.once('listening', () => resolve((server as unknown as { server: NetServer }).server));
    server.once('networkError', reject);
    server.listen(opts.port);
  });
  const port = (net.address() as AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        net.once('close', () => resolve());
        server.close();
        if (!net.listening) resolve();
      }),
  };
}
