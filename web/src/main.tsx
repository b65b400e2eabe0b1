/**
 * The dashboard's entry: styles, the router, the clock, who is logged in, then the App. Built by
 * scripts/build-web.ts into .build/web/ and served by the hub (hub/http/web-route.ts).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { signal } from '@preact/signals';
import { render } from 'preact';
import { App } from './app.tsx';
import { startClock } from './clock.ts';
import { startRouter } from './router.ts';
import { loadSession } from './session.ts';

const loadError = signal<unknown>(null);

function Root() {
  return <App loadError={loadError.value} />;
}

startRouter();
startClock();
render(<Root />, document.getElementById('app')!);
loadSession().catch((err: unknown) => (loadError.value = err));
