import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { CaseView } from './api.ts';
import { fmtTime } from './i18n.ts';

export const FLOW = ['AWAITING_FILES', 'QUEUED', 'CLAIMED', 'SIGNED', 'DELIVERED', 'ACKNOWLEDGED'] as const;
export const PRIORITY_RANK: Record<string, number> = { stat: 0, urgent: 1, routine: 2 };

export function PriorityBadge({ p }: { p: string }) {
  const { t } = useTranslation();
  return <span className={`badge prio-${p}`}>{t(`priority.${p}`)}</span>;
}

export function StatusBadge({ s }: { s: string }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${s}`} data-status={s}>
      {t(`status.${s}`)}
    </span>
  );
}

/** The states a case went through, each with its recorded time. */
export function Timeline({ c, compact = false }: { c: CaseView; compact?: boolean }) {
  const { t } = useTranslation();
  const steps: string[] = c.status === 'REJECTED' ? ['AWAITING_FILES', 'REJECTED'] : [...FLOW];
  return (
    <ol className={`timeline${compact ? ' compact' : ''}`} aria-label={t('tech.timeline')}>
      {steps.map((s) => {
        const at = c.timeline[s];
        return (
          <li key={s} className={at ? (s === 'REJECTED' ? 'done rejected' : 'done') : 'todo'} title={at ? fmtTime(at) : undefined}>
            <span className="dot" aria-hidden="true" />
            <span className="step">{t(`status.${s}`)}</span>
            {!compact && at && <time dateTime={at}>{fmtTime(at)}</time>}
          </li>
        );
      })}
    </ol>
  );
}

export function waitingText(t: (k: string, o?: Record<string, unknown>) => string, fromIso: string | undefined, now: number): string {
  if (!fromIso) return '';
  const min = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 60000));
  return min < 60 ? t('reader.minutes', { n: min }) : t('reader.hours', { h: Math.floor(min / 60), m: min % 60 });
}

export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** Run `f` every `ms` while mounted (and once at once). */
export function usePoll(f: () => Promise<unknown> | void, ms: number, deps: unknown[]) {
  const ref = useRef(f);
  ref.current = f;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      try {
        await ref.current();
      } catch {
        /* shown by the callee */
      }
      if (!stop) timer = setTimeout(tick, ms);
    };
    void tick();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, deps);
}

/** Chinese wording of the API's common error codes; the server's (English) message stays beside it. */
const ERROR_ZH: Record<string, string> = {
  'AUTH.BAD_CREDENTIALS': '用户名或密码错误',
  'AUTH.TOKEN_EXPIRED': '登录已过期，请重新登录',
  'AUTH.INVALID_TOKEN': '登录无效，请重新登录',
  'AUTH.NO_ROLE': '您的账号没有唯一的 TeleRead 角色，请联系管理员',
  'AUTH.ISSUER_UNREACHABLE': '暂时无法连接统一身份认证服务，请稍后再试',
  'AUTH.ISSUER_MISCONFIGURED': '统一身份认证服务配置有误，请联系 TeleRead 管理员',
  'AUTH.NO_PENDING_SIGN_IN': '此页面不是由本窗口发起的登录打开的，请重新登录',
  'OIDC.FAILED': '统一身份认证登录未完成，请重新登录',
  'OIDC.ACCESS_DENIED': '统一身份认证拒绝了登录',
  'AUTH.NOT_CONFIGURED': '本系统尚未配置登录方式，请联系管理员',
  'AUTH.NOT_LISTED': '您的账号不是本系统此角色的用户，请联系管理员将您加入医共体配置',
  'AUTH.NEEDS_HTTPS': '登录需要通过 https 地址访问本系统，请向管理员索取 https 地址',
  'SIGN.BAD_PIN': '签名 PIN 不正确',
  'SIGN.PIN_LOCKED': '签名 PIN 连续错误次数过多，签名已暂时锁定',
  'SIGN.NO_KEY': '您还没有签名密钥，请联系管理员',
  'LEASE.EXPIRED': '阅片租约已过期，病例已退回队列',
  'LEASE.LOST': '此窗口的阅片租约已失效（病例已在其他窗口重新领取）',
  'LEASE.NOT_HELD': '您未持有该病例的阅片租约',
  'ACK.READ_BACK_REQUIRED': '危急值报告需填写接收人并复述结果',
  'REPORT.IMPRESSION_REQUIRED': '请填写诊断意见',
  'REPORT.NO_DRAFT': '请先保存报告草稿',
  'CASE.NOT_FOUND': '病例不存在或无权查看',
  'CASE.NOT_DELIVERED': '报告尚未送达，暂不能确认',
  'REQUEST.INVALID': '提交内容有误',
  NETWORK: '网络错误，请检查连接后重试',
};

/**
 * When a lock-out the server answered (SIGN.PIN_LOCKED, AUTH.LOCKED) ends, on this computer's clock:
 * the answer's arrival plus its retryAfterSeconds (a clinic PC's clock may be minutes off the
 * server's, so the server's lockedUntil is not compared with it). Null for other errors.
 */
function lockEndsAt(e: unknown, code: string): number | null {
  const x = e as { code?: string; details?: { retryAfterSeconds?: unknown; lockedUntil?: unknown }; receivedAt?: number };
  if (x?.code !== code) return null;
  const secs = x.details?.retryAfterSeconds;
  if (typeof secs === 'number') return (x.receivedAt ?? Date.now()) + secs * 1000;
  return typeof x.details?.lockedUntil === 'string' ? Date.parse(x.details.lockedUntil) : null;
}

/** When signing is unlocked again after SIGN.PIN_LOCKED (this computer's clock); null otherwise. */
export const signingLockEndsAt = (e: unknown) => lockEndsAt(e, 'SIGN.PIN_LOCKED');

/** hh:mm, rounded up to the next minute: trying at the time shown is never too early. */
const localHhmm = (ms: number, lang: string) =>
  new Date(Math.ceil(ms / 60_000) * 60_000).toLocaleTimeString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit' });

/** The lock-outs (signing PIN, sign-in) in the user's words and local time (the server's message gives UTC). */
function pinMessage(e: unknown, lang: string): string | null {
  const x = e as { code?: string; details?: { attemptsLeft?: unknown; lockMinutes?: unknown; released?: unknown; draftSaved?: unknown; lockedUntil?: unknown } };
  const signInEnds = lockEndsAt(e, 'AUTH.LOCKED');
  if (signInEnds) {
    const hhmm = localHhmm(signInEnds, lang);
    return lang === 'en'
      ? `Too many failed sign-ins for this username: try again after ${hhmm}.`
      : `该用户名登录失败次数过多，请在 ${hhmm} 之后再试`;
  }
  const until = signingLockEndsAt(e);
  if (until) {
    const hhmm = localHhmm(until, lang);
    const released = x.details?.released === true;
    const kept = x.details?.draftSaved !== false;
    return lang === 'en'
      ? `Too many wrong signing PINs in a row: signing is locked until ${hhmm}.${released ? ` The case went back to the queue for another reader${kept ? '; your draft is kept' : ''}.` : ''}`
      : `签名 PIN 连续错误次数过多，签名已锁定至 ${hhmm}。${released ? `病例已退回队列由其他医师阅片${kept ? '，您的草稿已保存' : ''}。` : ''}`;
  }
  const left = x?.details?.attemptsLeft;
  const minutes = typeof x?.details?.lockMinutes === 'number' ? x.details.lockMinutes : 15;
  if (x?.code === 'SIGN.BAD_PIN' && typeof left === 'number' && lang !== 'en') return `签名 PIN 不正确，再错 ${left} 次将锁定签名 ${minutes} 分钟`;
  return null;
}

export function errorMessage(e: unknown, lang: string): string {
  const pin = pinMessage(e, lang);
  if (pin) return pin;
  const code = (e as { code?: string })?.code;
  const msg = (e as Error)?.message ?? String(e);
  // An identity provider's own error codes are many; in Chinese they all read as "not completed".
  const zh = lang !== 'en' && code ? (ERROR_ZH[code] ?? (code.startsWith('OIDC.') ? ERROR_ZH['OIDC.FAILED'] : undefined)) : undefined;
  return zh ? `${zh}（${msg}）` : msg;
}

export function ErrorText({ e }: { e: unknown }) {
  const { t, i18n } = useTranslation();
  if (!e) return null;
  const code = (e as { code?: string })?.code;
  return (
    <p role="alert" className="error" data-code={code ?? ''}>
      {t('common.error', { msg: errorMessage(e, i18n.language) })}
    </p>
  );
}

/** Chinese wording of the server's rejection codes (the server's own message, in English, stays beside it). */
const REJECTION_ZH: Record<string, string> = {
  'FILE.NOT_DICOM': '这不是 DICOM 文件：请从检查设备导出 DICOM 格式后上传，不要拍照或截图。',
  'FILE.EMPTY': '文件为空：请重新从设备导出后上传。',
  'FILE.TOO_LARGE': '文件超过允许的大小：请检查是否选错文件。',
  'FILE.SCP_ECG': '这是 SCP-ECG 文件：请从心电图机导出 DICOM 格式。',
  'FILE.PARSE_TIMEOUT': '文件解析超时：文件可能已损坏，请重新导出。',
  'DICOM.MALFORMED': 'DICOM 文件结构损坏：请从设备重新导出。',
  'DICOM.TRUNCATED': 'DICOM 文件不完整（被截断）：请重新导出并上传。',
  'DICOM.PIXEL_DATA_TRUNCATED': '图像数据不完整：请重新导出并上传。',
  'DICOM.PIXEL_DATA_MISSING': '文件中没有图像数据：请确认导出的是图像而非报告。',
  'DICOM.UNSUPPORTED_TRANSFER_SYNTAX': '不支持的压缩格式：请在设备上选择未压缩或 JPEG 格式导出。',
  'DICOM.UNSUPPORTED_SOP_CLASS': '不支持的 DICOM 类型：请上传心电、X 线或超声检查。',
  'DICOM.MISSING_ATTRIBUTE': 'DICOM 文件缺少必需信息：请检查设备导出设置。',
  'DICOM.FILE_META_INVALID': 'DICOM 文件头无效：请从设备重新导出。',
  'STUDY.DUPLICATE_INSTANCE': '该图像已在之前的检查中上传过：请确认是否选错文件。',
  'STUDY.MIXED_POOLS': '一次检查中混合了不同类型（如心电和 X 线）：请分开提交。',
  'STUDY.UNSUPPORTED_MODALITY': '本系统不受理该检查类型：请上传心电、X 线或超声检查。',
  'ECG.NO_WAVEFORM': '心电文件中没有波形数据：请从心电图机重新导出。',
  'ECG.NO_ECG_LEADS': '心电文件中没有标准导联：请检查导出设置。',
  'UPLOAD.URL_EXPIRED': '上传链接已过期：请重新提交检查。',
};

export function RejectionText({ code, message }: { code: string; message: string }) {
  const { i18n } = useTranslation();
  const zh = i18n.language !== 'en' ? REJECTION_ZH[code] : undefined;
  return (
    <>
      {zh ? (
        <>
          {zh} <small lang="en">{message}</small>
        </>
      ) : (
        message
      )}{' '}
      <code>{code}</code>
    </>
  );
}
