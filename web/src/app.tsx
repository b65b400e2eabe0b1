/**
 * The page's frame: the header (navigation for what the role may use, the live status, who is
 * logged in and `Log out`), then the view the URL names. Viewers are not shown what they may
 * not do: Upload is for operators and admins, Admin for admins.
 */
import { describeError } from './api.ts';
import { liveStatus } from './live.ts';
import { dropEarlyHistory } from './room/early-history.ts';
import { place, routeOf, type Route } from './router.ts';
import { logOut, mayActAs, sessionState, type Session } from './session.ts';
import { AdminView } from './views/admin-view.tsx';
import { AlertsView } from './views/alerts-view.tsx';
import { LoginView } from './views/login-view.tsx';
import { Overview } from './views/overview.tsx';
import { RoomView } from './views/room-view.tsx';
import { SensorsView } from './views/sensors-view.tsx';
import { UploadView } from './views/upload-view.tsx';

function NavLink({ href, label, current }: { href: string; label: string; current: boolean }) {
  return (
    <a href={href} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
}

function Header({ session, route }: { session: Session; route: Route }) {
  const status = liveStatus.value;
  return (
    <header class="top">
      <a class="brand" href="/">
        Roomwatch
      </a>
      <nav aria-label="Main">
        <NavLink href="/" label="Overview" current={route.view === 'overview'} />
        <NavLink href="/sensors" label="Sensors" current={route.view === 'sensors'} />
        <NavLink href="/alerts" label="Alerts" current={route.view === 'alerts'} />
        {mayActAs(session, 'operator') && <NavLink href="/upload" label="Upload" current={route.view === 'upload'} />}
        {mayActAs(session, 'admin') && <NavLink href="/admin" label="Admin" current={route.view === 'admin'} />}
      </nav>
      <span class={`live ${status}`} role="status" title="the live stream">
        {status === 'live' ? 'live' : status === 'connecting' ? 'connecting…' : 'reconnecting…'}
      </span>
      <span class="who">
        {session.loginRequired ? `${session.user ?? ''} (${session.role})` : 'open hub'}
        {session.loginRequired && (
          <button type="button" onClick={() => void logOut()}>
            Log out
          </button>
        )}
      </span>
    </header>
  );
}

function View({ route, session }: { route: Route; session: Session }) {
  switch (route.view) {
    case 'overview':
      return <Overview session={session} />;
    case 'room':
      return <RoomView key={route.room} room={route.room} session={session} />;
    case 'sensors':
      return <SensorsView />;
    case 'alerts':
      return <AlertsView />;
    case 'upload':
      return mayActAs(session, 'operator') ? <UploadView /> : <NotAllowed what="upload readings" />;
    case 'admin':
      return mayActAs(session, 'admin') ? <AdminView /> : <NotAllowed what="read the activity log, users and tokens" />;
    case 'missing':
      return (
        <section>
          <h1>Not found</h1>
          <p>
            The dashboard has no page {route.path}. <a href="/">Go to the overview</a>
          </p>
        </section>
      );
  }
}

function NotAllowed({ what }: { what: string }) {
  return (
    <section>
      <h1>Not for your role</h1>
      <p>Your role may not {what}.</p>
    </section>
  );
}

export function App({ loadError }: { loadError: unknown }) {
  const state = sessionState.value;
  const route = routeOf(place.value.path);
  if (loadError) {
    return (
      <main>
        <p class="problem" role="alert">
          The hub did not answer: {describeError(loadError)}. Reload the page to try again.
        </p>
      </main>
    );
  }
  if (state.kind === 'loading') return <main aria-busy="true">Loading…</main>;
  if (state.kind === 'login') {
    dropEarlyHistory();
    return (
      <main>
        <LoginView reason={state.reason} />
      </main>
    );
  }
  if (route.view !== 'room') dropEarlyHistory();
  return (
    <>
      <Header session={state.session} route={route} />
      <main>
        <View route={route} session={state.session} />
      </main>
    </>
  );
}
