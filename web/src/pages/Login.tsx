import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, type Session } from '../api.ts';
import { errorMessage } from '../common.tsx';

export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
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
