import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';

const zh = {
  app: { title: 'TeleRead 远程诊断', logout: '退出', language: '语言', skip: '跳到主要内容' },
  login: {
    title: '登录', username: '用户名', password: '密码', submit: '登录', failed: '登录失败：{{msg}}',
    loading: '正在读取登录方式…', retry: '重试', viaIssuer: '本系统使用医共体的统一身份认证登录。',
    withIssuer: '使用统一身份认证登录', completing: '正在完成登录…', again: '重新登录', otherUser: '使用其他账号登录', noIssuer: '本系统未配置统一身份认证',
  },
  role: { technician: '技师', reader: '诊断医师', admin: '管理员' },
  priority: { stat: '危急', urgent: '加急', routine: '常规' },
  status: {
    AWAITING_FILES: '等待文件', QUEUED: '排队中', CLAIMED: '阅片中', SIGNED: '已签发', DELIVERED: '已送达',
    ACKNOWLEDGED: '已确认', REJECTED: '已拒收',
  },
  tech: {
    home: '本院检查', newStudy: '新建检查', patientId: '患者编号', patientName: '患者姓名', sex: '性别',
    sexM: '男', sexF: '女', sexO: '其他', birthDate: '出生日期', consent: '已取得患者远程诊断知情同意',
    recordedBy: '同意记录人', priority: '优先级', clinicalQuestion: '临床问题 / 申请说明',
    files: '检查文件', drop: '将文件或文件夹拖放到此处', chooseFiles: '选择文件', chooseFolder: '选择文件夹',
    submit: '提交并上传', submitting: '正在提交…', noFiles: '请添加至少一个文件', removeFile: '移除 {{name}}',
    progress: '{{name}} 上传进度', retry: '重试', uploaded: '已上传', uploadFailed: '上传失败：{{msg}}',
    accepted: '已接收', rejected: '已拒收', pending: '处理中', caseCreated: '检查已创建：{{id}}',
    rejectedHint: '请检查该文件后重新提交一个新的检查（原文件已隔离保存）。', cases: '本院检查列表',
    patient: '患者', modality: '类型', status: '状态', created: '创建时间', open: '打开', noCases: '暂无检查',
    refresh: '刷新', timeline: '状态时间线', report: '诊断报告', findings: '所见', impression: '印象',
    signedBy: '签发医师', signedAt: '签发时间', download: '下载报告 (JSON+签名)', downloadPdf: '下载 PDF',
    acknowledge: '确认收到', receivedBy: '接收人', readBack: '复述危急值内容', acknowledged: '已于 {{at}} 由 {{by}} 确认',
    critical: '危急值', criticalBanner: '危急值报告，请立即处理并确认', criticalWaiting: '{{n}} 份危急值报告待确认：', back: '返回列表', rejection: '拒收原因',
    fileN: '文件 {{n}}', caseDetail: '检查详情', noReport: '报告尚未签发', newVersion: '报告已更新为第 {{v}} 版（{{kind}}），请确认收到', ackVersion: '确认第 {{v}} 版',
  },
  reader: {
    worklist: '待诊列表', readNext: '阅读下一例', nothing: '当前没有待诊病例', waiting: '等待', clinic: '机构',
    pool: '诊断池', flags: '自动标记', flagged: 'ECG 自动标记', minutes: '{{n}} 分钟', hours: '{{h}} 小时 {{m}} 分',
    release: '放弃（退回队列）', leaseUntil: '租约至 {{t}}', sign: '签发', pin: '签名 PIN', saveDraft: '保存草稿',
    saved: '草稿已保存', signed: '报告已签发（第 {{v}} 版）', critical: '危急值', template: '报告模板',
    findings: '所见', impression: '诊断意见', priors: '既往检查', noPriors: '无既往检查', reportForm: '诊断报告',
    leaseLost: '租约已失效：{{msg}}', earlierVersionSigned: '第 {{v}} 版已于此前签发（当时的应答丢失），内容以当时为准；此后的修改未包含在内，草稿已保留，请通过“补充/更正”追加。', measurements: '自动测量（仅供参考）', back: '返回待诊列表', clinicalNote: '临床问题',
    preview: '预览', noInstances: '没有可显示的影像', recent: '最近签发', amend: '补充 / 更正报告', amendKind: '类型',
    addendum: '补充报告', correction: '更正报告', amendReason: '原因', amendSign: '签发新版本',
    draftRestored: '已恢复您于 {{at}} 保存的草稿', criticalOpen: '危急值待确认',
  },
  viewer: {
    label: '影像查看器', wl: '窗宽/窗位', window: '窗宽', level: '窗位', presets: '预设', presetDefault: '默认',
    presetFull: '全范围', presetNarrow: '高对比', presetWide: '低对比', zoomIn: '放大', zoomOut: '缩小',
    fit: '适应窗口', pan: '平移', measure: '测距', wlTool: '调窗', invert: '反相', reset: '重置', play: '播放', pause: '暂停',
    prev: '上一帧', next: '下一帧', frame: '帧 {{i}} / {{n}}', decoded: '已解码 {{d}} / {{n}}', loading: '正在加载影像…',
    error: '影像无法显示：{{msg}}', fps: '{{fps}} 帧/秒', keys: '键盘：方向键调窗，Shift+方向键平移，+/- 缩放，I 反相，M 测距，R 重置，空格 播放/暂停，, . 逐帧',
    file: '影像 {{n}}', openLocal: '打开本机 DICOM 文件（不上传）', downloading: '影像下载进度',
  },
  ecg: {
    label: '心电图', speed: '走纸速度', gain: '增益', calibrate: '屏幕校准', calibrateHelp: '拖动滑块，使下方矩形与一张银行卡（85.6 毫米）等宽。',
    calWidth: '矩形宽度（像素）', save: '保存校准', cancel: '取消', calibrated: '已校准：{{v}} 像素/毫米', notCalibrated: '未校准（按 96 dpi 估算）',
    advisory: '自动测量仅供参考，以医师判读为准', calipers: '卡尺', caliperHelp: '在图上点击两点测量间期', interval: '间期 {{ms}} 毫秒（{{bpm}} 次/分）',
    unavailable: '无法获取心电波形：{{msg}}', heartRate: '心率', clear: '清除',
  },
  admin: {
    dashboard: '运营概览', backlog: '各诊断池积压', pool: '诊断池', queued: '排队', claimed: '阅片中', oldest: '最长等待',
    total: '总数', turnaround: '周转统计接口不可用。',
    directory: '机构、医师与诊断池', clinics: '机构', pools: '诊断池', readers: '诊断医师',
    turnaroundTitle: '周转时间与 SLA 达标率', cases: '病例数', signed: '已签发',
    sla: 'SLA 达标率', slaCaption: 'SLA 达标率（排队至签发在超时点之前，%）', csv: '导出 CSV', minutes: '分钟',
    seg: { ingest: '上传至入队', wait: '排队等待', read: '阅片', deliver: '签发至确认', endToEnd: '全程' },
    segmentHelp: '百分位数为最近秩法，单位分钟；仅根据病例时间线计算',
    filters: '筛选', range: '时间范围', ranges: { '24h': '最近 24 小时', '7d': '最近 7 天', '30d': '最近 30 天', custom: '自定义' },
    from: '开始', to: '结束', badRange: '请填写开始和结束时间，且开始早于结束。', groupBy: '分组', segment: '环节',
    groups: { pool: '诊断池', modality: '检查类型', clinic: '机构', priority: '优先级', reader: '诊断医师', none: '不分组' },
    group: { unsigned: '未签发', unrouted: '未分派', unknown: '未知', all: '全部' },
    noFigures: '该时间范围内没有病例。',
    nearBreach: '临近或已超时病例', noneNearBreach: '当前没有临近或超过 SLA 的病例。', slaState: 'SLA 状态',
    sla_warning: '临近超时', sla_breach: '已超时', raisedFrom: '原为{{p}}', reader: '诊断医师',
    criticalOpen: '待确认的危急值', noCriticalOpen: '没有待确认的危急值。', finding: '危急值内容', notifiedAt: '通知时间',
    sinceNotified: '已通知', escalations: '升级次数',
    readerLoad: '诊断医师当前工作量', claimedNow: '正在阅片', reading: '病例',
  },
  common: { loading: '加载中…', error: '出错了：{{msg}}', close: '关闭', yes: '是', no: '否', none: '无' },
};

const en: typeof zh = {
  app: { title: 'TeleRead tele-diagnosis', logout: 'Sign out', language: 'Language', skip: 'Skip to main content' },
  login: {
    title: 'Sign in', username: 'Username', password: 'Password', submit: 'Sign in', failed: 'Sign-in failed: {{msg}}',
    loading: 'Finding out how to sign in…', retry: 'Try again', viaIssuer: 'This TeleRead signs you in with your consortium account.',
    withIssuer: 'Sign in with your consortium account', completing: 'Completing sign-in…', again: 'Sign in again', otherUser: 'Sign in as someone else', noIssuer: 'This TeleRead has no identity provider configured',
  },
  role: { technician: 'Technician', reader: 'Reader', admin: 'Administrator' },
  priority: { stat: 'STAT', urgent: 'Urgent', routine: 'Routine' },
  status: {
    AWAITING_FILES: 'Awaiting files', QUEUED: 'Queued', CLAIMED: 'Being read', SIGNED: 'Signed', DELIVERED: 'Delivered',
    ACKNOWLEDGED: 'Acknowledged', REJECTED: 'Rejected',
  },
  tech: {
    home: 'Clinic studies', newStudy: 'New study', patientId: 'Patient ID', patientName: 'Patient name', sex: 'Sex',
    sexM: 'Male', sexF: 'Female', sexO: 'Other', birthDate: 'Birth date', consent: 'Patient consent to remote diagnosis obtained',
    recordedBy: 'Consent recorded by', priority: 'Priority', clinicalQuestion: 'Clinical question',
    files: 'Files', drop: 'Drop files or a folder here', chooseFiles: 'Choose files', chooseFolder: 'Choose folder',
    submit: 'Submit and upload', submitting: 'Submitting…', noFiles: 'Add at least one file', removeFile: 'Remove {{name}}',
    progress: 'Upload progress of {{name}}', retry: 'Retry', uploaded: 'Uploaded', uploadFailed: 'Upload failed: {{msg}}',
    accepted: 'Accepted', rejected: 'Rejected', pending: 'Processing', caseCreated: 'Case created: {{id}}',
    rejectedHint: 'Check this file and submit a new study (the original is kept in quarantine).', cases: 'Cases of this clinic',
    patient: 'Patient', modality: 'Modality', status: 'Status', created: 'Created', open: 'Open', noCases: 'No cases yet',
    refresh: 'Refresh', timeline: 'Status timeline', report: 'Report', findings: 'Findings', impression: 'Impression',
    signedBy: 'Signed by', signedAt: 'Signed at', download: 'Download report (JSON + signature)', downloadPdf: 'Download PDF',
    acknowledge: 'Acknowledge receipt', receivedBy: 'Received by', readBack: 'Read back the critical result', acknowledged: 'Acknowledged {{at}} by {{by}}',
    critical: 'Critical', criticalBanner: 'Critical result: act now and acknowledge', criticalWaiting: '{{n}} critical result(s) to acknowledge:', back: 'Back to the list', rejection: 'Rejection reason',
    fileN: 'File {{n}}', caseDetail: 'Case', noReport: 'No signed report yet', newVersion: 'The report was amended to version {{v}} ({{kind}}): acknowledge it', ackVersion: 'Acknowledge version {{v}}',
  },
  reader: {
    worklist: 'Worklist', readNext: 'Read next', nothing: 'Nothing waits in your pools', waiting: 'Waiting', clinic: 'Clinic',
    pool: 'Pool', flags: 'Auto flags', flagged: 'ECG auto-flagged', minutes: '{{n}} min', hours: '{{h}} h {{m}} min',
    release: 'Release (back to the queue)', leaseUntil: 'Lease until {{t}}', sign: 'Sign', pin: 'Signing PIN', saveDraft: 'Save draft',
    saved: 'Draft saved', signed: 'Report signed (version {{v}})', critical: 'Critical result', template: 'Template',
    findings: 'Findings', impression: 'Impression', priors: 'Prior studies', noPriors: 'No prior studies', reportForm: 'Report',
    leaseLost: 'Lease lost: {{msg}}', earlierVersionSigned: 'Version {{v}} was signed before (its answer was lost) and stands as signed; your later changes are not in it. Your draft is kept: add them with an addendum or correction.', measurements: 'Automatic measurements (advisory)', back: 'Back to the worklist', clinicalNote: 'Clinical question',
    preview: 'Preview', noInstances: 'No images to show', recent: 'Recently signed', amend: 'Addendum / correction', amendKind: 'Kind',
    addendum: 'Addendum', correction: 'Correction', amendReason: 'Reason', amendSign: 'Sign the new version',
    draftRestored: 'Your draft saved {{at}} was restored', criticalOpen: 'Critical: awaiting acknowledgement',
  },
  viewer: {
    label: 'Image viewer', wl: 'Window/level', window: 'Window', level: 'Level', presets: 'Presets', presetDefault: 'Default',
    presetFull: 'Full range', presetNarrow: 'High contrast', presetWide: 'Low contrast', zoomIn: 'Zoom in', zoomOut: 'Zoom out',
    fit: 'Fit', pan: 'Pan', measure: 'Measure', wlTool: 'Window', invert: 'Invert', reset: 'Reset', play: 'Play', pause: 'Pause',
    prev: 'Previous frame', next: 'Next frame', frame: 'Frame {{i}} / {{n}}', decoded: 'Decoded {{d}} / {{n}}', loading: 'Loading image…',
    error: 'Cannot show the image: {{msg}}', fps: '{{fps}} fps', keys: 'Keys: arrows window/level, Shift+arrows pan, +/- zoom, I invert, M measure, R reset, space play/pause, , . step',
    file: 'Image {{n}}', openLocal: 'Open a DICOM file from this computer (not uploaded)', downloading: 'Image download progress',
  },
  ecg: {
    label: 'ECG', speed: 'Paper speed', gain: 'Gain', calibrate: 'Calibrate screen', calibrateHelp: 'Drag the slider until the rectangle is as wide as a bank card (85.6 mm).',
    calWidth: 'Rectangle width (px)', save: 'Save calibration', cancel: 'Cancel', calibrated: 'Calibrated: {{v}} px/mm', notCalibrated: 'Not calibrated (assuming 96 dpi)',
    advisory: 'Automatic measurements are advisory; the physician’s reading prevails', calipers: 'Calipers', caliperHelp: 'Click two points on the trace to measure an interval', interval: 'Interval {{ms}} ms ({{bpm}} bpm)',
    unavailable: 'ECG waveform unavailable: {{msg}}', heartRate: 'Heart rate', clear: 'Clear',
  },
  admin: {
    dashboard: 'Dashboard', backlog: 'Backlog per pool', pool: 'Pool', queued: 'Queued', claimed: 'Being read', oldest: 'Oldest waiting',
    total: 'Total', turnaround: 'The turnaround API is not available.',
    directory: 'Clinics, readers and pools', clinics: 'Clinics', pools: 'Pools', readers: 'Readers',
    turnaroundTitle: 'Turnaround and SLA compliance', cases: 'Cases', signed: 'Signed',
    sla: 'SLA compliance', slaCaption: 'SLA compliance (queued → signed before the breach point, %)', csv: 'Export CSV', minutes: 'minutes',
    seg: { ingest: 'Upload → queued', wait: 'Waiting', read: 'Reading', deliver: 'Signed → acknowledged', endToEnd: 'End to end' },
    segmentHelp: 'nearest-rank percentiles in minutes, from the case timelines only',
    filters: 'Filters', range: 'Time range', ranges: { '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days', custom: 'Custom' },
    from: 'From', to: 'To', badRange: 'Give a start and an end, the start before the end.', groupBy: 'Group by', segment: 'Segment',
    groups: { pool: 'Pool', modality: 'Modality', clinic: 'Clinic', priority: 'Priority', reader: 'Reader', none: 'No grouping' },
    group: { unsigned: 'Not signed', unrouted: 'Unrouted', unknown: 'Unknown', all: 'All' },
    noFigures: 'No cases in this time range.',
    nearBreach: 'Cases near or past breach', noneNearBreach: 'No case is near or past its SLA.', slaState: 'SLA state',
    sla_warning: 'Near breach', sla_breach: 'Breached', raisedFrom: 'was {{p}}', reader: 'Reader',
    criticalOpen: 'Critical results awaiting acknowledgement', noCriticalOpen: 'No critical result awaits acknowledgement.', finding: 'Finding', notifiedAt: 'Notified',
    sinceNotified: 'Since notification', escalations: 'Escalations',
    readerLoad: 'Current load of readers', claimedNow: 'Reading now', reading: 'Cases',
  },
  common: { loading: 'Loading…', error: 'Something went wrong: {{msg}}', close: 'Close', yes: 'Yes', no: 'No', none: 'None' },
};

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];
const STORE = 'teleread.lang';

export function detectLanguage(): Lang {
  const saved = localStorage.getItem(STORE);
  if (saved === 'zh-CN' || saved === 'en') return saved;
  const asked = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of asked) {
    const x = l.toLowerCase();
    if (x.startsWith('zh')) return 'zh-CN';
    if (x.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

export function setLanguage(l: Lang): void {
  localStorage.setItem(STORE, l);
  void i18n.changeLanguage(l);
  document.documentElement.lang = l;
}

export function initI18n(): typeof i18n {
  const lng = detectLanguage();
  document.documentElement.lang = lng;
  void i18n.use(initReactI18next).init({
    resources: { 'zh-CN': { translation: zh }, en: { translation: en } },
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false },
  });
  return i18n;
}

/** Local date-time in the UI language. */
export function fmtTime(iso: string | undefined | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(i18n.language === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });
}
