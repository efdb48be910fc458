import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Session } from '../api.ts';
import { errorMessage } from '../common.tsx';
import { authConfig, beginSignIn, completeSignIn, type AuthConfig } from '../oidc.ts';

/** The sign-in page: TeleRead's own password form, or a button to the consortium's identity provider. */
export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const { t, i18n } = useTranslation();
  const [config, setConfig] = useState<AuthConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    authConfig().then(
      (c) => live && setConfig(c),
      (e: unknown) => live && setError(errorMessage(e, i18n.language)),
    );
    return () => {
      live = false;
    };
  }, [attempt, i18n.language]);

  if (config?.mode === 'password') return <PasswordForm onLogin={onLogin} />;
  if (config?.mode === 'oidc') return <IssuerSignIn config={config} />;
  return (
    <SignInStatus error={error} waiting={t('login.loading')}>
      <button type="button" onClick={() => setAttempt((n) => n + 1)}>
        {t('login.retry')}
      </button>
    </SignInStatus>
  );
}

/** A sign-in step under way, or why it failed with what the user can do next (`children`). */
function SignInStatus({ error, waiting, children }: { error: string | null; waiting: string; children: React.ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="card login">
      <h1>{t('login.title')}</h1>
      {error ? (
        <>
          <p role="alert" className="error">
            {t('login.failed', { msg: error })}
          </p>
          {children}
        </>
      ) : (
        <p aria-busy="true">{waiting}</p>
      )}
    </div>
  );
}

function IssuerSignIn({ config }: { config: Extract<AuthConfig, { mode: 'oidc' }> }) {
  const { t, i18n } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="card login">
      <h1>{t('login.title')}</h1>
      <p>{t('login.viaIssuer')}</p>
      {error && (
        <p role="alert" className="error">
          {t('login.failed', { msg: error })}
        </p>
      )}
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await beginSignIn(config, { language: i18n.language });
          } catch (e) {
            setError(errorMessage(e, i18n.language));
            setBusy(false);
          }
        }}
      >
        {t('login.withIssuer')}
      </button>
    </div>
  );
}

/** Back from the identity provider: finish the sign-in, or say why it did not work. */
export function SignInCallback({ onLogin }: { onLogin: (s: Session) => void }) {
  const { t, i18n } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [config, setConfig] = useState<Extract<AuthConfig, { mode: 'oidc' }> | null>(null);
  useEffect(() => {
    let live = true;
    (async () => {
      const c = await authConfig();
      if (c.mode !== 'oidc') throw new Error(t('login.noIssuer'));
      if (live) setConfig(c);
      return completeSignIn(c, new URL(location.href));
    })().then(
      (s) => live && onLogin(s),
      (e: unknown) => live && setError(errorMessage(e, i18n.language)),
    );
    return () => {
      live = false;
    };
    // Once per arrival: the code in the URL can be traded only once.
  }, []);
  return (
    <SignInStatus error={error} waiting={t('login.completing')}>
      <p className="actions">
        <a href="/login">{t('login.again')}</a>{' '}
        {config && (
          // The provider asks for the account again (prompt=login), so another can be given.
          <button
            type="button"
            onClick={() => beginSignIn(config, { language: i18n.language }).catch((e: unknown) => setError(errorMessage(e, i18n.language)))}
          >
            {t('login.otherUser')}
          </button>
        )}
      </p>
    </SignInStatus>
  );
}

function PasswordForm({ onLogin }: { onLogin: (s: Session) => void }) {
  const { t, i18n } = useTranslation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="card login"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          onLogin(await api.login(username, password));
        } catch (err) {
          setError(errorMessage(err, i18n.language));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h1>{t('login.title')}</h1>
      <label>
        {t('login.username')}
        <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
      </label>
      <label>
        {t('login.password')}
        <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </label>
      {error && (
        <p role="alert" className="error">
          {t('login.failed', { msg: error })}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {t('login.submit')}
      </button>
    </form>
  );
}
