/**
 * The dashboard's entry: a room view's history (when it may go before the session), styles, the
 * router, the clock, who is logged in, then the App. Built by
 * scripts/build-web.ts into .build/web/ and served by the hub (hub/http/web-route.ts).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { signal } from '@preact/signals';
import { render } from 'preact';
import { App } from './app.tsx';
import { startClock } from './clock.ts';
import { startEarlyHistory } from './room/early-history.ts';
import { place, startRouter } from './router.ts';
import { loadSession } from './session.ts';

const loadError = signal<unknown>(null);

function Root() {
  return <App loadError={loadError.value} />;
}

// A room view's history leaves first, while the session loads (early-history.ts says when it may).
startEarlyHistory(place.value.path, place.value.query);
startRouter();
startClock();
loadSession().catch((err: unknown) => (loadError.value = err));
render(<Root />, document.getElementById('app')!);
