import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { loadSession, saveSession, setRenewer, setUnauthorizedHandler, type Session } from './api.ts';
import { LANGS, setLanguage, type Lang } from './i18n.ts';
import { match, navigate, usePath } from './router.ts';
import { Login, SignInCallback } from './pages/Login.tsx';
import { authConfig, CALLBACK_PATH, renewStoredSession, signOutAtIssuer } from './oidc.ts';
import { TechnicianHome, TechnicianCase } from './pages/Technician.tsx';
import { ReaderHome } from './pages/Reader.tsx';
import { ReadingScreen } from './pages/Reading.tsx';
import { AdminHome } from './pages/Admin.tsx';
import { EcgCalibrationPage } from './pages/EcgCalibrationPage.tsx';
import { LocalViewerPage } from './pages/LocalViewerPage.tsx';

export const HOME: Record<Session['user']['role'], string> = { technician: '/tech', reader: '/reader', admin: '/admin' };

export function App() {
  const { t, i18n } = useTranslation();
  const path = usePath();
  const [session, setSession] = useState<Session | null>(loadSession);

  // An expired or refused token: back to the sign-in page.
  const expire = useCallback(() => {
    saveSession(null);
    setSession(null);
    navigate('/login', true);
  }, []);
  useEffect(() => setUnauthorizedHandler(expire), [expire]);
  // Signing out on purpose also ends the identity provider's session: on a shared clinic PC the
  // next person must not be signed straight back in as this user.
  const logout = useCallback(() => {
    const s = loadSession();
    expire();
    if (!s) return;
    authConfig()
      .then((c) => signOutAtIssuer(c, s))
      .then(
        (url) => url && location.assign(url),
        () => {},
      );
  }, [expire]);

  // An identity provider's ID token is renewed before it expires (retried every 30 s while the
  // provider cannot be reached), and at once when the API refuses an expired one (a computer that
  // slept); only the stored session changes (API calls read the token from there), so the pages keep
  // their state.
  const renewable = session?.renewal !== undefined;
  useEffect(() => {
    if (!renewable) return;
    setRenewer(renewStoredSession);
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      clearTimeout(timer);
      const at = loadSession()?.renewal?.at;
      if (live && at !== undefined) timer = setTimeout(run, Math.max(0, at - Date.now()));
    };
    // One chain of attempts: a page shown again while one is on its way or scheduled adds none.
    let running = false;
    const run = () => {
      clearTimeout(timer);
      if (running) return;
      running = true;
      renewStoredSession().then(
        () => {
          running = false;
          schedule();
        },
        () => {
          running = false;
          if (live) timer = setTimeout(run, 30_000);
        },
      );
    };
    // Timers do not run while a laptop sleeps: look again when the page is shown.
    const onVisible = () => {
      const at = loadSession()?.renewal?.at;
      if (document.visibilityState === 'visible' && at !== undefined && at <= Date.now()) run();
    };
    document.addEventListener('visibilitychange', onVisible);
    schedule();
    return () => {
      live = false;
      clearTimeout(timer);
      setRenewer(null);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [renewable, session?.user.id]);

  useEffect(() => {
    document.title = t('app.title');
  }, [t, i18n.language]);

  // Test and calibration page: needs no sign-in.
  if (path === '/dev/ecg-calibration')
    return (
      <Shell session={null} onLogout={logout}>
        <EcgCalibrationPage />
      </Shell>
    );
  if (path === '/dev/viewer')
    return (
      <Shell session={null} onLogout={logout}>
        <LocalViewerPage />
      </Shell>
    );

  const signedIn = (s: Session) => {
    saveSession(s);
    setSession(s);
    navigate(HOME[s.user.role], true);
  };
  if (!session && path === CALLBACK_PATH) {
    return (
      <Shell session={null} onLogout={logout}>
        <SignInCallback onLogin={signedIn} />
      </Shell>
    );
  }
  if (!session) {
    return (
      <Shell session={null} onLogout={logout}>
        <Login onLogin={signedIn} />
      </Shell>
    );
  }
  const role = session.user.role;
  let page: React.ReactNode = null;
  let m: Record<string, string> | null;
  if (role === 'technician' && (m = match('/tech/cases/:caseId', path))) page = <TechnicianCase caseId={m.caseId!} />;
  else if (role === 'technician' && path === '/tech') page = <TechnicianHome />;
  else if (role === 'reader' && (m = match('/reader/read/:caseId', path))) page = <ReadingScreen caseId={m.caseId!} session={session} />;
  else if (role === 'reader' && (m = match('/reader/view/:caseId', path))) page = <ReadingScreen caseId={m.caseId!} session={session} readOnly />;
  else if (role === 'reader' && path === '/reader') page = <ReaderHome session={session} />;
  else if (role === 'admin' && path === '/admin') page = <AdminHome />;
  if (!page) {
    queueMicrotask(() => navigate(HOME[role], true));
    return null;
  }
  return (
    <Shell session={session} onLogout={logout}>
      {page}
    </Shell>
  );
}

function Shell({ session, onLogout, children }: { session: Session | null; onLogout: () => void; children: React.ReactNode }) {
  const { t, i18n } = useTranslation();
  return (
    <>
      <a className="skip" href="#main">
        {t('app.skip')}
      </a>
      <header className="top">
        <strong className="brand">{t('app.title')}</strong>
        <span className="spacer" />
        <label>
          {t('app.language')}{' '}
          <select aria-label={t('app.language')} value={i18n.language} onChange={(e) => setLanguage(e.target.value as Lang)} data-testid="lang">
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {l === 'zh-CN' ? '中文' : 'English'}
              </option>
            ))}
          </select>
        </label>
        {session && (
          <>
            <span className="who" data-testid="who">
              {session.user.displayName} · {t(`role.${session.user.role}`)}
              {session.user.clinicId ? ` · ${session.user.clinicId}` : ''}
            </span>
            <button type="button" onClick={onLogout}>
              {t('app.logout')}
            </button>
          </>
        )}
      </header>
      <main id="main">{children}</main>
    </>
  );
}
