/**
 * The login form, on a hub with users: `User`, `Password`, `Log in`. The hub answers with an
 * HttpOnly session cookie (docs/API.md "Browser sessions"); the page never sees a token.
 */
import { useState } from 'preact/hooks';
import { ApiError, describeError } from '../api.ts';
import { logIn } from '../session.ts';

export function LoginView({ reason }: { reason: string | null }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await logIn(user, password);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'bad_credentials') setProblem('Wrong user name or password.');
      else setProblem(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Log in to Roomwatch</h1>
      {reason && <p class="hint">{reason}</p>}
      <form onSubmit={(e) => void submit(e)}>
        <label>
          User
          <input name="user" autocomplete="username" required value={user} onInput={(e) => setUser(e.currentTarget.value)} />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Log in
        </button>
        {problem && (
          <p class="problem" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
